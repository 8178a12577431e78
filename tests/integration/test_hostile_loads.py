"""Hostile input, generated, through the real loaders into a real warehouse: the load never
raises, every record is loaded, quarantined with a reason or skipped as a duplicate, and what
loaded keeps the contract the raw blocking checks hold it to."""

import json
import os
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql

from devtools.sample_data.collector_generator import create_collector_schema
from ingestion import contracts
from ingestion.all_sources import load_all_sources
from ingestion.collector import events as collector_events
from ingestion.core import quarantine, reconciliation
from ingestion.core.connections import connect
from ingestion.core.contract_fields import LoadContext, check, parse_json, violation_sql
from ingestion.core.quarantine import RowRejected
from ingestion.core.settings import Urls
from tests.unit.test_contracts import JSON_VALUES, _field_names
from warehouse import embedded_server

RAW = {
    "raw.collector_events": contracts.CollectorEvent,
    "raw.collector_session_transcripts": contracts.TranscriptHeader,
    "raw.collector_transcript_messages": contracts.TranscriptMessage,
    "raw.landed_collector_events": contracts.BatchEvent,
    "raw.landed_metric_events": contracts.MetricEvent,
    "raw.claude_code_lines": contracts.ClaudeCodeLine,
}

_NOW = datetime.now(UTC)
# Text PostgreSQL can hold (no NUL, no lone surrogate): what a collector column may contain.
_PG_TEXT = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=30
)
_PG_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**40), max_value=2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _PG_TEXT
    | st.sampled_from(["sk-ant-api03-abcdefghijklmnopqrstuv", "me@example.com", "lots"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            _PG_TEXT | st.sampled_from(["inputChars", "password", "apiKey"]), inner, max_size=4
        )
    ),
    max_leaves=12,
)
_WHEN = st.one_of(
    st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2026, 11, 29), timezones=st.just(UTC)
    ),
    st.sampled_from([datetime(1999, 1, 1, tzinfo=UTC), _NOW + timedelta(days=3)]),
)


def _text_or(values):
    return st.one_of(st.sampled_from(values), _PG_TEXT)


COLLECTOR_ROWS = st.fixed_dictionaries(
    {
        "host_id": _text_or(["laptop-1", "dev@example.com"]),
        "session_id": _text_or(["s-1", "s-2", ""]),
        "event_type": _text_or(["hook_decision", "agent_execution", "error"]),
        "agent_name": _text_or(["claude-code", "tool-approve"]),
        "hook_name": _text_or(["PreToolUse"]),
        "mode": _text_or(["direct", "lazy"]),
        "execution_type": _text_or(["llm", "typescript"]),
        "decision": _text_or(["APPROVE", "DENY", "ERROR"]),
        "decision_reason": st.none()
        | _PG_TEXT
        | st.sampled_from(
            ["password=hunter2 in the prompt", "-----BEGIN PGP PRIVATE KEY BLOCK-----\nabc"]
        ),
        "tool_name": _text_or(["Bash", "token: abcdef123456"]),
        "working_dir": _text_or(["/home/dev/project", "/home/dev@example.com/x"]),
        "latency_ms": st.integers(min_value=-(2**31), max_value=2**31 - 1),
        "model_tier": st.none() | _text_or(["haiku", "opus"]),
        "extra_data": st.none() | _PG_JSON | _PG_JSON.map(json.dumps),
        "created_at": _WHEN,
        "prompt_tokens": st.none() | st.integers(min_value=-5, max_value=2**31 - 1),
        # numeric holds NaN: a set-aside NaN must not make a day's cost unreconcilable.
        "cost": st.none()
        | st.decimals(min_value=-1, max_value=9999, places=8, allow_nan=False)
        | st.just(Decimal("NaN")),
    }
)

TRANSCRIPTS = st.one_of(
    st.lists(
        st.fixed_dictionaries(
            {
                "role": _text_or(["user", "assistant"]),
                "content": _PG_TEXT | _PG_JSON,
                "index": st.integers(min_value=-1, max_value=2**33),
            }
        ),
        max_size=4,
    ),
    _PG_JSON,
)


def _file_records(model):
    keys = st.sampled_from(_field_names(model))
    return st.one_of(st.dictionaries(keys, JSON_VALUES, max_size=10), JSON_VALUES)


def _line(value) -> bytes:
    return json.dumps(value, allow_nan=True).encode("utf-8", "surrogatepass")


def _fresh(pg_base_url) -> Urls:
    suffix = uuid.uuid4().hex[:10]
    return Urls(
        warehouse=embedded_server.ensure_database(pg_base_url, f"wh_{suffix}"),
        collector=embedded_server.ensure_database(pg_base_url, f"col_{suffix}"),
    )


def _insert_collector(url: str, rows: list[dict], transcripts: list) -> None:
    with connect(url) as conn:
        create_collector_schema(conn)
        for row in rows:
            columns = {
                **row,
                "extra_data": None if row["extra_data"] is None else json.dumps(row["extra_data"]),
            }
            # The collector's own column widths still bound what it can hold.
            widths = {
                "host_id": 64,
                "session_id": 255,
                "event_type": 32,
                "agent_name": 64,
                "hook_name": 64,
                "mode": 16,
                "execution_type": 16,
                "decision": 32,
                "tool_name": 64,
                "working_dir": 512,
                "model_tier": 16,
            }
            for column, width in widths.items():
                if columns[column] is not None:
                    columns[column] = columns[column][:width]
            conn.execute(
                sql.SQL("insert into telemetry_events ({}) values ({})").format(
                    sql.SQL(", ").join(map(sql.Identifier, columns)),
                    sql.SQL(", ").join([sql.Placeholder()] * len(columns)),
                ),
                [
                    psycopg.types.json.Jsonb(json.loads(v))
                    if k == "extra_data" and v is not None
                    else v
                    for k, v in columns.items()
                ],
            )
        for position, data in enumerate(transcripts):
            conn.execute(
                "insert into session_transcripts (host_id, session_id, "
                "transcript_data, message_counts) values (%s, %s, %s, %s)",
                (
                    "laptop",
                    f"t-{position}",
                    psycopg.types.json.Jsonb(data),
                    psycopg.types.json.Jsonb({"user": "lots"} if position % 2 else {}),
                ),
            )


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    collector_rows=st.lists(COLLECTOR_ROWS, min_size=1, max_size=25),
    transcripts=st.lists(TRANSCRIPTS, max_size=4),
    batch_events=st.lists(_file_records(contracts.BatchEvent), max_size=25),
    metric_lines=st.lists(
        _file_records(contracts.MetricEvent) | st.binary(max_size=40), max_size=25
    ),
    claude_lines=st.lists(
        _file_records(contracts.ClaudeCodeLine) | st.binary(max_size=40), max_size=25
    ),
)
def test_any_input_loads_or_is_quarantined(
    pg_base_url,
    tmp_path_factory,
    collector_rows,
    transcripts,
    batch_events,
    metric_lines,
    claude_lines,
):
    urls = _fresh(pg_base_url)
    _insert_collector(urls.collector, collector_rows, transcripts)
    landing = tmp_path_factory.mktemp("landing")
    (landing / "batch.json").write_bytes(_line({"events": batch_events}))
    (landing / "metrics.ndjson").write_bytes(
        b"\n".join(line if isinstance(line, bytes) else _line(line) for line in metric_lines)
    )
    claude = tmp_path_factory.mktemp("claude")
    (claude / "project").mkdir()
    (claude / "project" / "session.jsonl").write_bytes(
        b"\n".join(line if isinstance(line, bytes) else _line(line) for line in claude_lines)
        + b"\n"
    )
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("ATW_LANDING_DIR", str(landing))
        monkeypatch.setenv("ATW_CLAUDE_PROJECTS_DIR", str(claude))
        counts = load_all_sources(urls, "hostile")
    assert all(c.balanced for c in counts)
    _routing_agrees_with_python(urls)
    with connect(urls.warehouse) as conn:
        reasons = {r for (r,) in conn.execute("select distinct reason_code from raw.quarantine")}
        assert reasons <= quarantine.REASON_CODES - {
            quarantine.UNEXPECTED_ERROR,
            quarantine.LOAD_ERROR,
        }
        for table, model in RAW.items():
            # The contract's SQL, generated from its declaration.
            broken = conn.execute(
                sql.SQL("select {} as rule from {} as t").format(
                    sql.SQL(violation_sql(model, "t", "t._loaded_at")),
                    sql.Identifier(*table.split(".")),
                )
            ).fetchall()
            assert [rule for (rule,) in broken if rule is not None] == [], table
        assert reconciliation.out_of_balance(conn, tuple(c.source for c in counts)) == []
        read = conn.execute("select coalesce(sum(rows_read), 0) from raw.load_log").fetchone()[0]
    assert read >= len(collector_rows)


_TEXT_COLUMNS = (
    "host_id",
    "session_id",
    "event_type",
    "agent_name",
    "hook_name",
    "mode",
    "execution_type",
    "decision",
    "decision_reason",
    "tool_name",
    "working_dir",
    "model_tier",
    "model_name",
    "client_version",
    "generation_id",
)


def _routing_agrees_with_python(urls: Urls) -> None:
    """Every collector row is in raw exactly as the contract's Python validation leaves it
    (redacted), or quarantined where it rejects it: whether the row went through Python or
    straight through COPY, the outcome is the same."""
    with connect(urls.collector) as conn:
        rows = conn.execute(
            "select t.id, row_to_json(t)::text from telemetry_events as t"
        ).fetchall()
    with connect(urls.warehouse) as conn:
        key = conn.execute("select key from raw.redaction_key").fetchone()[0].encode()
        raw = {
            row[0]: row[1:]
            for row in conn.execute(
                sql.SQL("select source_id, {}, extra_data from raw.collector_events").format(
                    sql.SQL(", ").join(map(sql.Identifier, _TEXT_COLUMNS))
                )
            )
        }
        quarantined = {
            int(k)
            for (k,) in conn.execute(
                "select source_key from raw.quarantine where source = %s",
                (collector_events.SOURCE,),
            )
        }
    for source_id, text in rows:
        context = LoadContext(now=datetime.now(UTC), fingerprint_key=key)
        try:
            event = check(contracts.CollectorEvent, parse_json(text), context)
        except RowRejected:
            assert source_id in quarantined and source_id not in raw, source_id
            continue
        assert source_id in raw, source_id
        held = raw[source_id]
        assert list(held[:-1]) == [getattr(event, c) for c in _TEXT_COLUMNS], source_id
        expected = None if event.extra_data is None else json.loads(event.extra_data)
        assert held[-1] == expected, source_id


# Values that once slipped past the collector's routing (it must send them through Python).
ROUTING_EDGES = [
    {"extra_data": json.loads('{"x": 1e400}'.replace("1e400", "1" + "0" * 400))},
    {"extra_data": ' {"inputChars": -1}'},
    {"extra_data": {"k" * 300: "long key"}},
    {"extra_data": {"api_\u212aey": "kelvin-key-value"}},
    {"extra_data": {"secret\n": "newline-key-value"}},
    {"extra_data": {"a": "Bearer\x0bTOKENabcdef1234567"}},
    {"extra_data": {"a": "password\x0b= hunter5x"}},
    {"extra_data": {"a": "aws" + "\x0b" * 30 + "key = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'"}},
    {"decision_reason": "Bearer\x0bTOKENabcdef1234567"},
]


def test_routing_edges_go_through_python(pg_base_url):
    urls = _fresh(pg_base_url)
    base = {
        "host_id": "h",
        "session_id": "s",
        "event_type": "commit",
        "agent_name": "a",
        "hook_name": "x",
        "mode": "direct",
        "execution_type": "llm",
        "decision": "SUCCESS",
        "decision_reason": None,
        "tool_name": "Bash",
        "working_dir": "/w",
        "latency_ms": 1,
        "model_tier": None,
        "extra_data": None,
        "created_at": datetime(2026, 11, 18, tzinfo=UTC),
        "prompt_tokens": None,
        "cost": None,
    }
    _insert_collector(urls.collector, [{**base, **edge} for edge in ROUTING_EDGES], [])
    with connect(urls.collector) as source, connect(urls.warehouse) as warehouse:
        counts = collector_events.pull_events(source, warehouse, "edges")
    assert counts.rows_read == len(ROUTING_EDGES) and counts.balanced
    _routing_agrees_with_python(urls)


def test_unreadable_entries_are_quarantined_and_the_rest_loads(urls, tmp_path, monkeypatch):
    """A folder named like a log, a file that vanished, a FIFO (reading it would block): one
    quarantine row each, every run, and the good files load all the same, one of them under a
    name that is not UTF-8."""
    landing = Path(os.environ["ATW_LANDING_DIR"])
    (landing / "x.jsonl").mkdir()
    (landing / "gone.json").symlink_to(tmp_path / "nowhere")
    os.mkfifo(landing / "pipe.json")
    event = {
        "hostId": "h",
        "sessionId": "s",
        "eventType": "commit",
        "agentName": "a",
        "decision": "SUCCESS",
        "latencyMs": 1,
        "timestamp": "2026-11-18T10:00:00Z",
    }
    (landing / "good.json").write_bytes(b"\xef\xbb\xbf" + json.dumps({"events": [event]}).encode())
    with open(os.fsencode(landing) + b"/copy-\xff.json", "wb") as named:
        named.write(json.dumps({"events": [event]}).encode())
    claude = tmp_path / "claude"
    (claude / "p" / "y.jsonl").mkdir(parents=True)
    (claude / "p" / "s.jsonl").write_bytes(
        b"\xef\xbb\xbf"
        + json.dumps({"type": "user", "timestamp": "2026-11-18T10:00:00Z"}).encode()
        + b"\n"
    )
    monkeypatch.setenv("ATW_CLAUDE_PROJECTS_DIR", str(claude))
    with connect(urls.collector) as conn:
        create_collector_schema(conn)
    for run in ("first", "second"):
        counts = {c.source: c for c in load_all_sources(urls, run)}
        assert counts["landing.collector_batches"].rows_quarantined == 2
        assert counts["landing.metric_events"].rows_quarantined == 1
        assert counts["claude_code.session_logs"].rows_quarantined == 1
    with connect(urls.warehouse) as conn:
        assert conn.execute("select count(*) from raw.landed_collector_events").fetchone()[0] == 2
        assert conn.execute("select count(*) from raw.claude_code_lines").fetchone()[0] == 1
        assert {r for (r,) in conn.execute("select distinct reason_code from raw.quarantine")} == {
            "unreadable_file"
        }
        details = {d for (d,) in conn.execute("select detail from raw.quarantine")}
        keys = {k for (k,) in conn.execute("select file_path from raw.landed_files")}
    assert details == {"not a regular file", "FileNotFoundError"}
    assert "copy-\ufffd.json" in keys
