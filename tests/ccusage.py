"""ccusage 20.0.24, the reference for Claude Code numbers: found, or installed from npm where
npm exists, and run over a folder of logs the way ../shared/fixtures/agent-logs/run_ccusage.sh
runs it (an empty home, only CLAUDE_CONFIG_DIR)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path

from ingestion.core.settings import PROJECT_ROOT

VERSION = "20.0.24"
INSTALL_DIR = PROJECT_ROOT / ".warehouse" / f"ccusage-{VERSION}"


@cache
def binary() -> tuple[Path | None, str]:
    """(the ccusage executable, "") or (None, why it is not there). ATW_CCUSAGE names one;
    otherwise `npm install ccusage@20.0.24` into .warehouse/ once."""
    named = os.environ.get("ATW_CCUSAGE")
    candidates = [Path(named)] if named else []
    candidates.append(INSTALL_DIR / "node_modules" / ".bin" / "ccusage")
    for candidate in candidates:
        if candidate.is_file() and _version(candidate) == VERSION:
            return candidate, ""
    npm = shutil.which("npm")
    if npm is None:
        return None, "npm is not installed: comparing with ccusage's stored reports only"
    INSTALL_DIR.mkdir(parents=True, exist_ok=True)
    installed = subprocess.run(
        [
            npm,
            "install",
            "--prefix",
            str(INSTALL_DIR),
            "--no-audit",
            "--no-fund",
            f"ccusage@{VERSION}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    found = INSTALL_DIR / "node_modules" / ".bin" / "ccusage"
    if installed.returncode != 0 or not found.is_file():
        return None, f"npm install ccusage@{VERSION} failed: {installed.stderr.strip()[-300:]}"
    if _version(found) != VERSION:
        return None, f"the installed ccusage is not {VERSION}"
    return found, ""


def _version(executable: Path) -> str:
    try:
        printed = subprocess.run(
            [str(executable), "--version"],
            capture_output=True,
            text=True,
            timeout=60,
            env=_clean_env(Path(tempfile.gettempdir())),
        )
    except OSError:
        return ""
    return printed.stdout.strip().rsplit(" ", 1)[-1]


def _clean_env(home: Path) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "USERPROFILE": str(home),
        "XDG_CONFIG_HOME": str(home / "xdg"),
        "XDG_DATA_HOME": str(home / "xdg"),
        "LOG_LEVEL": "0",
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }


def report(executable: Path, claude_dir: Path, name: str, timezone: str = "UTC") -> dict:
    """`ccusage claude <name> --json --offline --timezone <timezone>` over `claude_dir`
    (a folder holding `projects/`)."""
    with tempfile.TemporaryDirectory() as home:
        env = {**_clean_env(Path(home)), "CLAUDE_CONFIG_DIR": str(claude_dir)}
        printed = subprocess.run(
            [str(executable), "claude", name, "--json", "--offline", "--timezone", timezone],
            capture_output=True,
            text=True,
            timeout=600,
            env=env,
            check=True,
        )
    return json.loads(printed.stdout)


# The other agent CLIs: ccusage's sub-command and the variable that points it at a folder (as
# ../shared/fixtures/agent-logs/run_ccusage.sh sets it).
AGENT_CLIS = {
    "codex": ("codex", "CODEX_HOME"),
    "gemini_cli": ("gemini", "GEMINI_DATA_DIR"),
    "opencode": ("opencode", "OPENCODE_DATA_DIR"),
    "copilot_cli": ("copilot", "COPILOT_HOME"),
}


def agent_report(
    executable: Path, agent_cli: str, folder: Path, name: str, extra_env: dict | None = None
) -> dict:
    """`ccusage <cli> <name> --json --offline --timezone UTC` over `folder`, with an empty
    home."""
    command, variable = AGENT_CLIS[agent_cli]
    with tempfile.TemporaryDirectory() as home:
        env = {**_clean_env(Path(home)), variable: str(folder), **(extra_env or {})}
        printed = subprocess.run(
            [str(executable), command, name, "--json", "--offline", "--timezone", "UTC"],
            capture_output=True,
            text=True,
            timeout=600,
            env=env,
            check=True,
        )
    return json.loads(printed.stdout)
