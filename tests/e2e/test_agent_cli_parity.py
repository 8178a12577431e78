"""Codex, Gemini CLI, OpenCode and Copilot CLI numbers equal ccusage 20.0.24's on every set in
../shared/fixtures/agent-logs/ (daily, monthly and session reports, UTC): every token type
exact, cost within 0.5 % wherever ccusage prices the model.

Each set is loaded by the warehouse's loader into an empty warehouse and built by dbt; ccusage
runs over the same folder where npm exists (tests/ccusage.py), else its stored reports are the
reference. Where ccusage 20.0.24 is known to be wrong, the test expects the right number and
checks that ccusage's differs by exactly what it gets wrong (KNOWN_DIFFERENCES).
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from psycopg import sql

from ingestion.agent_cli import loader
from ingestion.agent_cli.sources import BY_NAME
from ingestion.core.connections import connect
from ingestion.prices import catalogue as price_catalogue
from orchestration.defs.dbt.manifest import run_dbt
from tests import ccusage
from tests.agent_cli_rule_logs import (
    GEMINI_3_PRO_PAST,
    write_codex_rule_logs,
    write_copilot_rule_logs,
    write_opencode_rule_logs,
)
from tests.conftest import SHARED
from warehouse import embedded_server

COST_TOLERANCE = 0.005
# ccusage's fields, and our columns
TOKENS = {
    "inputTokens": "input_tokens",
    "outputTokens": "output_tokens",
    "cacheCreationTokens": "cache_creation_tokens",
    "cacheReadTokens": "cache_read_tokens",
    "totalTokens": "total_tokens",
}
CODEX_TOKENS = {**TOKENS, "reasoningOutputTokens": "reasoning_tokens"}
# The fixture folder of each CLI, and where its home keeps the logs.
FOLDERS = {
    "codex": ("codex", ".codex"),
    "gemini_cli": ("gemini-cli", ".gemini/tmp"),
    "opencode": ("opencode", ".local/share/opencode"),
    "copilot_cli": ("copilot-cli", ".copilot"),
}
# ccusage 20.0.24 counts a fork's replay of its parent again when the replay is spread over
# more than a second (its own fixture: the 236.7 M-token parent history of a 5,500-token
# turn). We count the fork's own turn; ccusage's totals exceed ours by the replayed events.
REPLAYED_PARENT = {
    "inputTokens": 36_700_000,
    "outputTokens": 2_000_000,
    "cacheCreationTokens": 0,
    "cacheReadTokens": 200_000_000,
    "reasoningOutputTokens": 200_000,
    "totalTokens": 238_700_000,
}
# ccusage 20.0.24 has no long-context prices for gemini-3-pro-preview; Google bills a call past
# 200 K of context at $4 / $18 / $0.40 per million (input, output, cache read) instead of
# $2 / $12 / $0.20. Its Copilot rule session (100 K input, 180 K cache reads, 10 K output) costs
# that much more here, in its session, on its day and in its month.
GEMINI_3_PRO_TIER = (100_000 * 2 + 180_000 * 0.2 + 10_000 * 6) / 1e6
KNOWN_COST_DIFFERENCES = {
    "copilot_cli/rules": dict.fromkeys(
        (GEMINI_3_PRO_PAST, "2026-06-25", "2026-06"), GEMINI_3_PRO_TIER
    ),
}
GENERATOR_END = datetime(2026, 12, 3, 15, 20, tzinfo=UTC)
# Logs made for ccusage's rules (tests/agent_cli_rule_logs.py), and where each goes.
RULE_LOGS = {
    "codex": (write_codex_rule_logs, ".codex"),
    "copilot_cli": (write_copilot_rule_logs, ".copilot"),
    "opencode": (write_opencode_rule_logs, ".local/share/opencode"),
}
KNOWN_DIFFERENCES = {
    "codex/ccusage-replay-multisecond-legacy": REPLAYED_PARENT,
    "codex/ccusage-replay-multisecond-modern": REPLAYED_PARENT,
}


@dataclass(frozen=True)
class LogSet:
    name: str
    agent_cli: str
    home: Path | None  # what ccusage's variable points at; None: written at test time
    stored: Path | None  # ccusage's stored reports


def _sets() -> list[LogSet]:
    found = []
    for agent_cli, (folder, home) in FOLDERS.items():
        for path in sorted((SHARED / "fixtures" / "agent-logs" / folder).glob("*")):
            if (path / "home" / home).is_dir():
                found.append(
                    LogSet(
                        f"{folder}/{path.name}",
                        agent_cli,
                        path / "home" / home,
                        path / "ccusage-20.0.24",
                    )
                )
    # Without stored reports: compared with ccusage only where it runs.
    found += [LogSet(f"{cli}/rules", cli, None, None) for cli in RULE_LOGS]
    found += [LogSet(f"generator/{cli}", cli, None, None) for cli in FOLDERS]
    return found


def _home(log_set: LogSet, tmp: Path) -> Path:
    if log_set.home is not None:
        return log_set.home
    if log_set.name.endswith("/rules"):
        write, home = RULE_LOGS[log_set.agent_cli]
        write(tmp / home)
        return tmp / home
    from devtools.sample_data.agent_cli_generator import (
        AgentCliConfig,
        agent_cli_homes,
        write_agent_cli_logs,
    )

    # One developer's home, as ccusage reads one machine's.
    # A fixed end: the logs are the same whatever the clock (this one's Copilot set has a
    # shutdown past gpt-5.4's long-context threshold).
    write_agent_cli_logs(tmp, AgentCliConfig(seed=7, developers=6, days=12, end=GENERATOR_END))
    return agent_cli_homes(tmp)[log_set.agent_cli][0]


def _reference(log_set: LogSet, home: Path, report: str) -> dict:
    executable, why = ccusage.binary()
    if executable is not None:
        return ccusage.agent_report(executable, log_set.agent_cli, home, report)
    stored = log_set.stored / f"{report}-UTC.json" if log_set.stored else None
    if stored is None or not stored.is_file():
        pytest.skip(f"{why}; no stored {report} report for {log_set.name}")
    return json.loads(stored.read_text())


def _rows(url: str, query: str, params: tuple = ()) -> list[dict]:
    with connect(url) as conn:
        cursor = conn.execute(query, params)
        names = [c.name for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _empty_warehouse(base_url: str, name: str) -> str:
    with connect(base_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
        )
    return embedded_server.ensure_database(base_url, name)


@pytest.fixture(scope="module")
def warehouse_name() -> str:
    return f"wh_agents_{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module", params=_sets(), ids=lambda log_set: log_set.name)
def built(request, pg_base_url, warehouse_name, tmp_path_factory):
    """One set loaded and built: our three marts."""
    log_set = request.param
    if log_set.stored is None and ccusage.binary()[0] is None:
        pytest.skip(f"{ccusage.binary()[1]}; {log_set.name} has no stored reports")
    home = _home(log_set, tmp_path_factory.mktemp("agent-home"))
    with pytest.MonkeyPatch.context() as monkeypatch:
        url = _empty_warehouse(pg_base_url, warehouse_name)
        monkeypatch.setenv("ATW_WAREHOUSE_URL", url)
        monkeypatch.setenv("ATW_AGENT_LOG_SETTLE_SECONDS", "0")
        with connect(url) as warehouse:
            counts = loader.load_cli(warehouse, "parity", BY_NAME[log_set.agent_cli], [home])
            price_catalogue.refresh(warehouse, price_catalogue.logged_model_names(warehouse))
        assert counts.rows_loaded > 0
        run_dbt(
            url,
            [
                "build",
                "--quiet",
                "--select",
                "resource_type:seed",
                "model_prices",
                "stg_agent_cli__usage+",
                "--exclude",
                "int_agent_calls_unioned+",
            ],
            "target/agent-cli-parity",
            check=True,
        )
        ours = {
            "daily": _rows(url, "select * from marts.fct_agent_cli_daily_usage"),
            "monthly": _rows(url, "select * from marts.fct_agent_cli_monthly_usage"),
            "session": _rows(url, "select * from marts.fct_agent_cli_sessions"),
        }
        yield log_set, home, ours, url


def _fields(log_set: LogSet) -> dict[str, str]:
    return CODEX_TOKENS if log_set.agent_cli == "codex" else TOKENS


def _cost(row: dict) -> float:
    return float(row.get("costUSD", row.get("totalCost")) or 0)


def _compare(log_set: LogSet, reference_rows: list[dict], key, ours: list[dict], our_key):
    fields = _fields(log_set)
    totals: dict = defaultdict(lambda: dict.fromkeys(fields, 0))
    costs: dict = defaultdict(float)
    for row in ours:
        for field, column in fields.items():
            totals[our_key(row)][field] += int(row[column])
        costs[our_key(row)] += float(row["cost_usd"] or 0)
    difference = KNOWN_DIFFERENCES.get(log_set.name, {})
    expected = {
        key(row): {field: row[field] - difference.get(field, 0) for field in fields}
        for row in reference_rows
    }
    assert dict(totals) == expected
    cost_difference = KNOWN_COST_DIFFERENCES.get(log_set.name, {})
    for row in reference_rows:
        if _cost(row) > 0 and not difference:
            expected_cost = _cost(row) + cost_difference.get(key(row), 0)
            assert costs[key(row)] == pytest.approx(expected_cost, rel=COST_TOLERANCE), key(row)


def test_daily_report(built):
    log_set, home, ours, _ = built
    reference = _reference(log_set, home, "daily")
    _compare(
        log_set,
        reference["daily"],
        lambda row: row["date"],
        ours["daily"],
        lambda row: row["usage_date"].isoformat(),
    )


def test_monthly_report(built):
    log_set, home, ours, _ = built
    reference = _reference(log_set, home, "monthly")
    _compare(
        log_set,
        reference["monthly"],
        lambda row: row["month"],
        ours["monthly"],
        lambda row: row["usage_month"],
    )


def test_session_report(built):
    log_set, home, ours, _ = built
    reference = _reference(log_set, home, "session")
    _compare(
        log_set,
        reference["sessions"],
        lambda row: row["sessionId"],
        ours["session"],
        lambda row: row["session_id"],
    )


def test_every_file_reconciled(built):
    """Every file's usage rows as its reader produced them are in raw: none missing, the same
    total tokens."""
    log_set, _, ours, url = built
    findings = _rows(
        url,
        "select scope, source_rows, warehouse_rows, source_tokens, warehouse_tokens "
        "from raw.reconciliation where source = %s",
        (BY_NAME[log_set.agent_cli].source,),
    )
    assert findings
    for finding in findings:
        assert finding["source_rows"] == finding["warehouse_rows"], finding["scope"]
        assert finding["source_tokens"] == finding["warehouse_tokens"], finding["scope"]
