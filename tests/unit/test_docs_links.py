"""The README and docs/ hang together: every docs page is linked from the README, every relative
link and anchor resolves, and every repository path they name in code exists. No database."""

from __future__ import annotations

import re
from pathlib import Path

from tests.docs_pages import DOCS, README, ROOT

PAGES = [README, *sorted(DOCS.glob("*.md"))]

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
# A path in code that starts at one of the repository's folders, with no wildcard or placeholder.
REPO_PATH = re.compile(
    r"(?:benchmarks|dbt_project|devtools|docs|expectations|grafana|ingestion|orchestration|tests"
    r"|warehouse)/[\w./-]*"
)


def _prose(text: str) -> str:
    """The text outside fenced code blocks."""
    return "".join(part for i, part in enumerate(re.split(r"(?m)^```.*$", text)) if i % 2 == 0)


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lowercase, markup and punctuation dropped, spaces → '-'."""
    text = re.sub(r"[`*]|\[([^\]]*)\]\([^)]*\)", lambda m: m.group(1) or "", heading.strip())
    return re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    anchors, seen = set(), {}
    for line in _prose(path.read_text(encoding="utf-8")).splitlines():
        match = re.match(r"#{1,6} (.+)", line)
        if match:
            slug = _slug(match.group(1))
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def _links(path: Path) -> list[str]:
    prose = CODE_SPAN.sub("", _prose(path.read_text(encoding="utf-8")))
    return [target for target in LINK.findall(prose) if not re.match(r"[a-z]+:", target)]


def test_the_readme_links_every_docs_page():
    linked = {(README.parent / target.split("#")[0]).resolve() for target in _links(README)}
    unlinked = [page.name for page in DOCS.glob("*.md") if page.resolve() not in linked]
    assert not unlinked, f"docs pages the README does not link to: {unlinked}"


def test_every_relative_link_and_anchor_resolves():
    broken = []
    for page in PAGES:
        for target in _links(page):
            file_part, _, anchor = target.partition("#")
            destination = (page.parent / file_part).resolve() if file_part else page
            where = f"{page.relative_to(ROOT)} → {target}"
            if not destination.exists():
                broken.append(f"{where}: no such file")
            elif anchor and destination.suffix == ".md" and anchor not in _anchors(destination):
                broken.append(f"{where}: no heading with that anchor")
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_every_repository_path_named_in_the_docs_exists():
    missing = []
    for page in PAGES:
        for span in CODE_SPAN.findall(_prose(page.read_text(encoding="utf-8"))):
            match = REPO_PATH.fullmatch(span.split(" ")[0])
            if match and not (ROOT / match.group(0)).exists():
                missing.append(f"{page.relative_to(ROOT)}: `{span}`")
    assert not missing, "paths the docs name that do not exist (moved?):\n" + "\n".join(missing)
