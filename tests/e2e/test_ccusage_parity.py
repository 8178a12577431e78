"""Claude Code numbers equal ccusage 20.0.24's on every real set in ../shared/fixtures, on the
generator's logs and on small logs made to exercise each of its rules
(tests/ccusage_rule_logs.py): daily (UTC and two other zones), monthly, session and blocks
reports, every token type exact, cost within 0.5 % wherever ccusage prices the model.

ccusage itself runs where npm exists (tests/ccusage.py installs it); without it the reports
stored beside each set are the reference, and the sets that have none skip.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from psycopg import sql

from ingestion.claude_code.loader import load_projects
from ingestion.core.connections import connect
from ingestion.prices import catalogue as price_catalogue
from orchestration.defs.dbt.manifest import run_dbt
from tests import ccusage
from tests.ccusage_rule_logs import write_rule_logs
from tests.conftest import SHARED, fresh_databases
from warehouse import embedded_server

ZONES = ("UTC", "America/Los_Angeles", "Asia/Kolkata")
TOKENS = ("inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens")
COLUMNS = dict(
    zip(
        TOKENS,
        ("input_tokens", "output_tokens", "cache_creation_tokens", "cache_read_tokens"),
        strict=True,
    )
)
COST_TOLERANCE = 0.005


@dataclass(frozen=True)
class LogSet:
    name: str
    claude_dir: Path | None  # holds projects/; None: copied from `projects_of` at test time
    stored: Path | None  # ccusage's stored reports


def _sets() -> list[LogSet]:
    found = []
    original = SHARED / "fixtures" / "claude-code"
    if (original / "sample-project").is_dir():
        found.append(LogSet("claude-code/sample-project", None, original / "ccusage-20.0.24"))
    for folder in sorted((SHARED / "fixtures" / "agent-logs" / "claude-code").glob("*")):
        if (folder / "home" / ".claude" / "projects").is_dir():
            found.append(
                LogSet(
                    f"agent-logs/{folder.name}",
                    folder / "home" / ".claude",
                    folder / "ccusage-20.0.24",
                )
            )
    # Without stored reports: compared with ccusage only where it runs.
    found += [LogSet("generator", None, None), LogSet("rules", None, None)]
    return found


def _claude_dir(log_set: LogSet, tmp: Path) -> Path:
    if log_set.claude_dir is not None:
        return log_set.claude_dir
    if log_set.name == "rules":
        write_rule_logs(tmp / "projects")
    elif log_set.name == "generator":
        from devtools.sample_data.claude_code_generator import (
            ClaudeCodeConfig,
            write_claude_projects,
        )

        write_claude_projects(
            tmp / "projects", ClaudeCodeConfig(seed=11, sessions=12, resumed_share=0.4)
        )
    else:  # the original set keeps its logs beside ccusage's reports
        shutil.copytree(
            SHARED / "fixtures" / "claude-code" / "sample-project",
            tmp / "projects" / "sample-project",
        )
    return tmp


def _reference(log_set: LogSet, claude_dir: Path, report: str, zone: str = "UTC") -> dict:
    executable, why = ccusage.binary()
    if executable is not None:
        return ccusage.report(executable, claude_dir, report, zone)
    stored = log_set.stored / f"{report}-{zone.replace('/', '_')}.json" if log_set.stored else None
    if stored is None or not stored.is_file():
        pytest.skip(f"{why}; no stored {report} report in {zone} for {log_set.name}")
    return json.loads(stored.read_text())


def _rows(url: str, query: str) -> list[dict]:
    with connect(url) as conn:
        cursor = conn.execute(query)
        names = [c.name for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _build(url: str, zone: str, select: list[str]) -> None:
    run_dbt(
        url,
        [
            "build",
            "--quiet",
            "--select",
            *select,
            "--exclude",
            "int_agent_calls_unioned+",
            "--vars",
            json.dumps({"report_timezone": zone}),
        ],
        "target/ccusage-parity",
        check=True,
    )


@pytest.fixture(scope="module")
def warehouse_name() -> str:
    return f"wh_parity_{uuid.uuid4().hex[:10]}"


def _empty_warehouse(base_url: str, name: str) -> str:
    """A new, empty database under the same name for each set: dbt keys its partial-parse
    state on the connection, so the sets after the first reuse it."""
    with connect(base_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
        )
    return embedded_server.ensure_database(base_url, name)


@pytest.fixture(scope="module", params=_sets(), ids=lambda log_set: log_set.name)
def built(request, pg_base_url, warehouse_name, tmp_path_factory):
    """One set loaded and built: our marts in every zone, and ccusage's reports."""
    log_set = request.param
    if log_set.stored is None and ccusage.binary()[0] is None:
        pytest.skip(f"{ccusage.binary()[1]}; {log_set.name} has no stored reports")
    claude_dir = _claude_dir(log_set, tmp_path_factory.mktemp("claude"))
    with pytest.MonkeyPatch.context() as monkeypatch:
        urls = fresh_databases(pg_base_url, monkeypatch)
        urls = replace(urls, warehouse=_empty_warehouse(pg_base_url, warehouse_name))
        monkeypatch.setenv("ATW_WAREHOUSE_URL", urls.warehouse)
        with connect(urls.warehouse) as warehouse:
            counts = load_projects(warehouse, "parity", [claude_dir / "projects"])
            price_catalogue.refresh(warehouse, price_catalogue.logged_model_names(warehouse))
        assert counts.rows_quarantined == 0
        assert counts.rows_loaded > 0
        ours: dict = {"daily": {}}
        for zone in ZONES:
            _build(
                urls.warehouse,
                zone,
                [
                    "resource_type:seed",
                    "model_prices",
                    "stg_claude_code__api_responses+",
                    "stg_claude_code__session_responses+",
                ]
                if zone == "UTC"
                else ["fct_claude_code_daily_usage"],
            )
            ours["daily"][zone] = _rows(
                urls.warehouse, "select * from marts.fct_claude_code_daily_usage"
            )
        ours["monthly"] = _rows(urls.warehouse, "select * from marts.fct_claude_code_monthly_usage")
        ours["sessions"] = _rows(urls.warehouse, "select * from marts.fct_claude_code_sessions")
        ours["blocks"] = _rows(
            urls.warehouse, "select * from marts.fct_usage_blocks order by block_start_at"
        )
        assert ours["daily"]["UTC"] and ours["sessions"] and ours["blocks"]
        yield log_set, claude_dir, ours


def _totals(rows, key) -> dict:
    totals: dict = defaultdict(lambda: dict.fromkeys(TOKENS, 0))
    for row in rows:
        for field, column in COLUMNS.items():
            totals[key(row)][field] += int(row[column])
    return dict(totals)


def _costs(rows, key) -> dict:
    costs: dict = defaultdict(float)
    for row in rows:
        costs[key(row)] += float(row["cost_usd"] or 0)
    return dict(costs)


def _compare(reference_rows, period_key, ours_rows, our_key) -> None:
    """Tokens per period exact; cost per period and model within 0.5 % where ccusage has one."""
    expected = {period_key(row): {field: row[field] for field in TOKENS} for row in reference_rows}
    assert _totals(ours_rows, our_key) == expected
    our_costs = _costs(ours_rows, lambda row: (our_key(row), row["model_name"]))
    for row in reference_rows:
        for model in row.get("modelBreakdowns", []):
            if model["cost"] > 0:
                assert our_costs.get((period_key(row), model["modelName"])) == pytest.approx(
                    model["cost"], rel=COST_TOLERANCE
                ), (period_key(row), model["modelName"])


@pytest.mark.parametrize("zone", ZONES)
def test_daily_report(built, zone):
    log_set, claude_dir, ours = built
    reference = _reference(log_set, claude_dir, "daily", zone)
    _compare(
        reference["daily"],
        lambda row: row.get("date") or row["period"],
        ours["daily"][zone],
        lambda row: row["usage_date"].isoformat(),
    )


def test_monthly_report(built):
    log_set, claude_dir, ours = built
    reference = _reference(log_set, claude_dir, "monthly")
    _compare(
        reference["monthly"],
        lambda row: row.get("month") or row["period"],
        ours["monthly"],
        lambda row: row["usage_month"].strftime("%Y-%m"),
    )


def test_session_report(built):
    log_set, claude_dir, ours = built
    reference = _reference(log_set, claude_dir, "session")
    sessions = reference.get("sessions") or reference.get("session")
    # Older output names only the session (`period`); newer also its project.
    with_project = all("projectPath" in row for row in sessions)

    def theirs(row):
        session = row.get("sessionId") or row["period"]
        return (row["projectPath"], session) if with_project else session

    def our(row):
        return (row["project"], row["session_id"]) if with_project else row["session_id"]

    expected = {theirs(row): {field: row[field] for field in TOKENS} for row in sessions}
    assert _totals(ours["sessions"], our) == expected
    costs = _costs(ours["sessions"], our)
    for row in sessions:
        if row["totalCost"] > 0:
            assert costs[theirs(row)] == pytest.approx(row["totalCost"], rel=COST_TOLERANCE)


def test_blocks_report(built):
    log_set, claude_dir, ours = built
    reference = _reference(log_set, claude_dir, "blocks")
    expected = [block for block in reference["blocks"] if not block["isGap"]]
    assert [
        row["block_start_at"].isoformat().replace("+00:00", ".000Z") for row in ours["blocks"]
    ] == [block["startTime"] for block in expected]
    for row, block in zip(ours["blocks"], expected, strict=True):
        counts = block["tokenCounts"]
        assert row["block_end_at"].isoformat().replace("+00:00", ".000Z") == block["endTime"]
        assert (
            row["response_count"],
            row["input_tokens"],
            row["output_tokens"],
            row["cache_creation_tokens"],
            row["cache_read_tokens"],
            row["total_tokens"],
        ) == (
            block["entries"],
            counts["inputTokens"],
            counts["outputTokens"],
            counts["cacheCreationInputTokens"],
            counts["cacheReadInputTokens"],
            block["totalTokens"],
        )
        if block["costUSD"] > 0:
            assert float(row["cost_usd"]) == pytest.approx(block["costUSD"], rel=COST_TOLERANCE)
