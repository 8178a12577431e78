"""The project's documentation as the tests read it: README.md and the pages in docs/."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"


def page(name: str) -> str:
    """The text of `docs/<name>`, e.g. page("marts.md")."""
    return (DOCS / name).read_text(encoding="utf-8")


def section(text: str, heading: str) -> str:
    """The body under the heading line `heading` (e.g. "## Record contracts"), up to the next
    heading of the same or a higher level; fenced code blocks are not searched for headings."""
    level = len(heading) - len(heading.lstrip("#"))
    lines = text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.rstrip("\n") == heading]
    assert len(starts) == 1, f"{heading!r} should be one heading of the page, found {len(starts)}"
    body, fenced = [], False
    for line in lines[starts[0] + 1 :]:
        if line.startswith("```"):
            fenced = not fenced
        match = None if fenced else re.match(r"(#+) ", line)
        if match and len(match.group(1)) <= level:
            break
        body.append(line)
    return "".join(body)
