"""The agent CLI sample generator (devtools/sample_data/agent_cli_generator.py): the same seed
writes the same bytes; every developer uses three agents; each CLI's files lie where the
warehouse's discovery looks and its readers read them all with no rejection; the sample holds
the cases that make these logs hard (forks, repeated snapshots, compaction, archived rollouts,
recorded costs, failed calls, resumed sessions); and, where ccusage 20.0.24 is installed, ccusage
reads one developer's home of each CLI to the same token totals as the readers."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from devtools.sample_data.agent_cli_generator import (
    CLAUDE_CODE,
    CLIS,
    HOMES,
    AgentCliConfig,
    agent_cli_homes,
    developer_agents,
    write_agent_cli_logs,
)
from ingestion.agent_cli import sources
from ingestion.core import redaction
from ingestion.core.contract_fields import LoadContext
from ingestion.core.settings import PROJECT_ROOT

END = datetime(2026, 3, 2, 12, tzinfo=UTC)
# Small, yet with every case below: forks, compaction, failed calls, resumed sessions.
SMALL = AgentCliConfig(
    seed=7, developers=6, days=14, end=END, sessions_per_day=1.5, codex_fork_share=0.3
)
# The installed binary only: this test never installs it.
CCUSAGE = PROJECT_ROOT / ".warehouse" / "ccusage-20.0.24" / "node_modules" / ".bin" / "ccusage"
# ccusage's sub-command and the variable that points it at a CLI's folder.
CCUSAGE_SOURCES = {
    "codex": ("codex", "CODEX_HOME"),
    "gemini_cli": ("gemini", "GEMINI_DATA_DIR"),
    "opencode": ("opencode", "OPENCODE_DATA_DIR"),
    "copilot_cli": ("copilot", "COPILOT_HOME"),
}
# Which files below a CLI's folder hold usage (and are read); the rest must be skipped.
READ = {
    "codex": lambda relative: relative.startswith(("sessions/", "archived_sessions/")),
    "gemini_cli": lambda relative: relative.split("/")[1] == "chats",
    "opencode": lambda relative: relative.startswith("storage/message/"),
    "copilot_cli": lambda relative: relative.endswith("/events.jsonl"),
}
# The files beside them that hold no usage, by kind (see `_skipped_kind`).
SKIPPED = {
    "codex": set(),
    "gemini_cli": {"logs.json", "checkpoint"},  # the prompts; a saved chat
    "opencode": {"part", "session", "session_diff", "project", "migration"},
    "copilot_cli": {"workspace.yaml"},
}
TOKENS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens")


def _files(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _skipped_kind(name: str, relative: str) -> str:
    if name == "opencode":  # storage/<kind>/...
        return relative.split("/")[1]
    return relative.rsplit("/", 1)[-1].split("-")[0]  # logs.json, checkpoint-<tag>.json ...


def _read(homes: dict[str, list[Path]], now: datetime) -> dict[str, list[tuple]]:
    """Per CLI: (found file, its Parsed) for every file the loader would read, found by the
    warehouse's own discovery and read by its own reader."""
    context = LoadContext(now=now, fingerprint_key=b"k")
    read = {}
    for name, roots in homes.items():
        found = sources.discover(sources.BY_NAME[name], roots, b"k")
        read[name] = [
            (file, file.kind.read(file.log.path.read_bytes(), file.log, context)[0])
            for file in found
        ]
    return read


def _rows(read: list[tuple]) -> list[dict]:
    return [row for _, parsed in read for row in parsed.rows]


def _counted(rows: list[dict]) -> list[dict]:
    """The rows ccusage counts: a Codex fork's replay of its parent is not."""
    return [r for r in rows if not (r.get("in_leading_burst") or r.get("is_replayed_turn"))]


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    folder = tmp_path_factory.mktemp("agent-cli-sample")
    return folder, write_agent_cli_logs(folder, SMALL)


@pytest.fixture(scope="module")
def read(sample) -> dict[str, list[tuple]]:
    return _read(agent_cli_homes(sample[0]), END)


def test_same_seed_writes_the_same_bytes(tmp_path):
    config = AgentCliConfig(seed=3, developers=4, days=4, end=END)
    first = write_agent_cli_logs(tmp_path / "a", config)
    again = write_agent_cli_logs(tmp_path / "b", config)
    write_agent_cli_logs(tmp_path / "c", AgentCliConfig(seed=4, developers=4, days=4, end=END))
    assert first == again
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    assert _files(tmp_path / "a") != _files(tmp_path / "c")
    assert sum(first[f"{cli}_sessions"] for cli in CLIS) > 0


def test_without_an_end_the_history_ends_now(tmp_path):
    before = datetime.now(UTC)
    write_agent_cli_logs(tmp_path, AgentCliConfig(developers=3, days=3))
    after = datetime.now(UTC)
    rows = [row for read in _read(agent_cli_homes(tmp_path), after).values() for row in _rows(read)]
    assert rows
    assert all(before - timedelta(days=3) <= row["occurred_at"] <= after for row in rows)


def test_every_developer_uses_claude_code_and_two_more():
    agents = developer_agents(AgentCliConfig())
    assert list(agents) == [f"dev-{n:02d}" for n in range(1, 21)]
    for three in agents.values():
        assert three[0] == CLAUDE_CODE
        assert len(set(three)) == 3 and set(three[1:]) <= set(CLIS)
    for cli in CLIS:
        assert sum(cli in three for three in agents.values()) >= 5  # several developers each


def test_each_developer_home_holds_the_clis_they_use(sample):
    folder, written = sample
    assert written["developers"] == SMALL.developers
    homes = agent_cli_homes(folder)
    for name, three in developer_agents(SMALL).items():
        # Over a short history a developer may not have started a CLI yet: never one of others.
        used = {cli for cli in CLIS if (folder / name / HOMES[cli]) in homes[cli]}
        assert used <= set(three[1:]), name
        assert set(_files(folder / name)) == {
            f for f in _files(folder / name) if f.startswith(tuple(HOMES[cli] for cli in used))
        }
    # Claude Code's logs come from claude_code_generator: nothing of it here.
    assert not list(folder.glob("*/.claude"))


def test_files_lie_where_the_readers_look(sample, read):
    folder, written = sample
    for name, roots in agent_cli_homes(folder).items():
        cli = sources.BY_NAME[name]
        read_files, skipped = 0, set()
        for root in roots:
            for relative in _files(root):
                classified = cli.classify(relative)
                assert (classified is not None) == READ[name](relative), (name, relative)
                if classified is None:
                    skipped.add(_skipped_kind(name, relative))
                read_files += classified is not None
        assert len(read[name]) == read_files > 0
        assert written[f"{name}_files"] == sum(len(_files(root)) for root in roots)
        if name == "codex":
            assert written["codex_sessions"] == read_files
        if name in ("gemini_cli", "copilot_cli"):
            assert written[f"{name}_sessions"] == read_files
        if name == "opencode":
            sessions = {file.log.relative.split("/")[2] for file, _ in read[name]}
            assert written["opencode_sessions"] == len(sessions)
        assert skipped == SKIPPED[name]


def test_the_readers_read_every_file_without_rejection(sample, read):
    _, written = sample
    for name in CLIS:
        rejected = [r for _, parsed in read[name] for r in parsed.rejections]
        assert rejected == [], (name, rejected[:3])
        rows = _rows(read[name])
        assert len(rows) == written[f"{name}_usage_records"] > 0, name
        assert all(END - timedelta(days=SMALL.days) <= r["occurred_at"] <= END for r in rows)
        assert all(r["total_tokens"] > 0 for r in rows)


def test_the_sample_holds_the_hard_cases(sample, read):
    folder, _ = sample
    codex = _rows(read["codex"])
    threads = {row["thread_id"] for row in codex}
    forks = [row for row in codex if row["forked_from_id"]]
    assert forks and {row["forked_from_id"] for row in forks} <= threads  # parents present
    replayed = [row for row in forks if row["in_leading_burst"]]
    assert replayed and all(row["is_replayed_turn"] for row in replayed)
    assert len(_counted(forks)) < len(forks)
    assert {row["model"] for row in codex} == {"gpt-5.3-codex", "gpt-5.2-codex", "gpt-5"}
    rollouts = b"".join(
        data for root in agent_cli_homes(folder)["codex"] for data in _files(root).values()
    )
    assert b'"type":"compacted"' in rollouts and b'"type":"context_compacted"' in rollouts
    assert b'"info":null' in rollouts
    assert rollouts.count(b'"type":"token_count","info":{') > len(codex)  # repeated snapshots
    for tool in (b'"name":"exec_command"', b'"name":"apply_patch"', b'"type":"web_search_call"'):
        assert tool in rollouts
    assert any(f.log.relative.startswith("archived_sessions/") for f, _ in read["codex"])

    gemini = _rows(read["gemini_cli"])
    assert {row["model"] for row in gemini} == {"gemini-2.5-pro", "gemini-2.5-flash"}
    assert any(row["cache_read_tokens"] for row in gemini)
    assert any(row["extra_output_tokens"] for row in gemini)  # thoughts

    opencode = _rows(read["opencode"])
    assert any(row["logged_cost_usd"] for row in opencode)
    assert any(row["logged_cost_usd"] is None for row in opencode)
    assert {row["provider"] for row in opencode} == {"anthropic", "openai"}
    messages = [json.loads(f.log.path.read_bytes()) for f, _ in read["opencode"]]
    failed = [m for m in messages if "error" in m]
    assert failed and all(m["tokens"]["output"] == m["tokens"]["input"] == 0 for m in failed)
    assert all("tokens" not in m for m in messages if m["role"] == "user")

    resumed = 0
    for file, parsed in read["copilot_cli"]:
        events = [json.loads(line) for line in file.log.path.read_text().splitlines()]
        shutdowns = [e["data"]["modelMetrics"] for e in events if e["type"] == "session.shutdown"]
        for before, after in zip(shutdowns, shutdowns[1:], strict=False):
            resumed += 1
            for model, metrics in before.items():
                grown = after[model]["usage"]
                assert all(grown[k] >= v for k, v in metrics["usage"].items())
        assert len(parsed.rows) >= len(shutdowns)
    assert resumed


def test_codex_lines_are_compact_json(sample):
    for root in agent_cli_homes(sample[0])["codex"]:
        for data in _files(root).values():
            for line in data.decode().splitlines():
                compact = json.dumps(json.loads(line), separators=(",", ":"), ensure_ascii=False)
                assert line == compact


def test_nothing_looks_like_a_secret(sample):
    for relative, data in _files(sample[0]).items():
        text = data.decode()
        if redaction.may_hold_secret(text):
            assert not redaction.redact(text)[1], relative


def test_the_default_team_writes_a_few_thousand_sessions(tmp_path):
    """Twenty developers over 35 days: measured on one week of it (the volume grows with the
    days), so that the test stays fast."""
    default = AgentCliConfig()
    week = dataclasses.replace(default, days=7, end=END)
    written = write_agent_cli_logs(tmp_path, week)
    assert written["developers"] == default.developers == 20
    sessions = sum(written[f"{cli}_sessions"] for cli in CLIS)
    assert 800 <= sessions * default.days / week.days <= 4_000
    homes = agent_cli_homes(tmp_path)
    for cli in CLIS:
        assert len(homes[cli]) >= 5, cli  # several developers each
        assert written[f"{cli}_usage_records"] >= written[f"{cli}_sessions"] > 0


@pytest.mark.skipif(not CCUSAGE.is_file(), reason=f"ccusage 20.0.24 is not installed at {CCUSAGE}")
@pytest.mark.parametrize("name", CLIS)
def test_ccusage_reads_a_developer_home(sample, read, name, tmp_path):
    """ccusage reads the generated format: one developer's folder (with a Codex fork, if any
    has one; else the busiest) gives the token totals that the warehouse's readers give."""
    roots = agent_cli_homes(sample[0])[name]
    by_home: dict[Path, list[dict]] = {}
    for file, parsed in read[name]:
        home = next(root for root in roots if root in file.log.path.parents)
        by_home.setdefault(home, []).extend(parsed.rows)
    home, rows = max(
        by_home.items(),
        key=lambda item: (any(r.get("forked_from_id") for r in item[1]), len(item[1])),
    )
    command, variable = CCUSAGE_SOURCES[name]
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "USERPROFILE": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "x"),
        "XDG_DATA_HOME": str(tmp_path / "x"),
        "LOG_LEVEL": "0",
        "NO_COLOR": "1",
        variable: str(home),
    }
    report = subprocess.run(
        [str(CCUSAGE), command, "daily", "--json", "--offline", "--timezone", "UTC"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert report.returncode == 0, report.stderr[-500:]
    totals = json.loads(report.stdout)["totals"]
    assert totals["totalTokens"] > 0
    counted = _counted(rows)
    assert totals["totalTokens"] == sum(r["total_tokens"] for r in counted)
    for column, key in zip(
        TOKENS,
        ("inputTokens", "outputTokens", "cacheReadTokens", "cacheCreationTokens"),
        strict=True,
    ):
        assert totals[key] == sum(r[column] for r in counted), column
