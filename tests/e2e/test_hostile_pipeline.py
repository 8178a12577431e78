"""Every kind of hostile record the issue names, from every source, with secrets planted in every
field, then a plain `atw run`: it succeeds with every blocking check passing, each bad record
is quarantined with its reason, and no secret reaches any column of any schema, the run's
output, DAGSTER_HOME or the database server's log."""

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest

from devtools.sample_data.claude_code_generator import ClaudeCodeConfig, write_claude_projects
from devtools.sample_data.collector_generator import generate_collector
from devtools.sample_data.landing_generator import LandingConfig, write_landing_files
from ingestion.core.connections import connect
from tests.conftest import SAMPLE_END, SMALL
from tests.unit.test_contracts import (
    BATCH_KINDS,
    CLAUDE_KINDS,
    METRIC_KINDS,
    TRANSCRIPT_MESSAGE_KINDS,
    _batch_event,
    _claude_line,
)
from tests.unit.test_redaction import HARD, PLANTED

# One secret per field, each unique, so that a leak names its way in.
SECRET_FIELDS = {
    "host": "host-ops@corp-example.com",
    "session": "sess-sk-ant-api03-SESSIONabcdefghijklmnop",
    "agent": "agent AKIAAGENTFIELD00001X",
    "hook": "hook ghp_HOOKabcdefghijklmnopqrstuvwxyz0123456",
    "tool": "tool xoxb-100000000001-TOOLFIELDabc",
    "workdir": "/home/workdir.person@corp-example.com/project",
    "model": "model sk-proj-MODELFIELDabcdefghijklmnop",
    "version": "v sk_live_VERSIONabcdefghijklmnopq",
    "generation": "gen-eyJhbGciOiJIUzI1NiJ9.eyJHRU5FUkFUSU9OIjoxfQ.c2lnbmF0dXJl",
    "reason": "reason password=Reason-Pa55!/word",
    "extra_value": "postgres://app:Extra-Pa55/w0rd!@db:5432/x",
    "extra_key": "key.person@corp-example.com",
    "branch": "branch glpat-BRANCHabcdefghij012345",
    "cwd": "/Users/cwd.person@corp-example.com/repo",
    "request": "req AIzaSyREQUEST-abcdefghijklmnopqrstuvwxy",
    "message_id": "msg sk-ant-api03-MESSAGEIDabcdefghijklmn",
    "content": "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nCONTENTPGPBODY\n"
    "-----END PGP PRIVATE KEY BLOCK-----",
    "tool_use": "Bash sk-proj-TOOLUSEabcdefghijklmnopqr",
    "event_id": "evt-metric.person@corp-example.com",
    "tenant": "tenant AKIATENANTFIELD0001X",
    "trace": "trace ghp_TRACEabcdefghijklmnopqrstuvwxyz01234567",
    "error_code": "E sk-ant-api03-ERRORCODEabcdefghijklm",
    "tool_call": "call xoxp-200000000002-TOOLCALLabc",
    "transcript": "Authorization: Bearer TRANSCRIPTbearer.abc-def_ghi",
}
# What must never be found: the secret part of each (the text around it may remain).
NEEDLES = [
    "ops@corp-example",
    "SESSIONabcdefghij",
    "AKIAAGENTFIELD",
    "HOOKabcdefghij",
    "TOOLFIELDabc",
    "workdir.person",
    "MODELFIELDabcd",
    "VERSIONabcdefgh",
    "eyJHRU5FUkFUSU9OIjoxfQ",
    "Reason-Pa55",
    "Extra-Pa55",
    "key.person@",
    "BRANCHabcdefghij",
    "cwd.person@",
    "REQUEST-abcdefgh",
    "MESSAGEIDabcdef",
    "CONTENTPGPBODY",
    "TOOLUSEabcdefgh",
    "metric.person@",
    "AKIATENANTFIELD",
    "TRACEabcdefghij",
    "ERRORCODEabcdef",
    "TOOLCALLabc",
    "TRANSCRIPTbearer",
    "hunter2",
    "MIIEow",
    "anna.smith@example.com",
    *[needle for _, _, needle in HARD],
]
S = SECRET_FIELDS


def _storable(message) -> bool:
    """jsonb holds no NUL: the collector cannot hold that kind of message."""
    return not (isinstance(message, dict) and "\x00" in str(message.get("content")))


def _collector(url: str) -> None:
    """The sample collector with the classic planted secrets, and rows carrying one secret
    per column plus every hostile value the collector's types can hold."""
    with connect(url) as conn:
        generate_collector(conn, replace(SMALL, planted_secrets=tuple(PLANTED.values())))
        row = (
            "insert into telemetry_events (host_id, session_id, event_type, agent_name, "
            "hook_name, mode, execution_type, decision, decision_reason, tool_name, "
            "working_dir, latency_ms, model_name, extra_data, created_at, cost, "
            "client_version, generation_id) values (%s, %s, %s, %s, %s, 'direct', 'llm', "
            "%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        )
        extra = psycopg.types.json.Jsonb({S["extra_key"]: S["extra_value"], "inputChars": 900})
        good = (
            S["host"][:64],
            S["session"],
            "agent_execution",
            S["agent"],
            S["hook"],
            "SUCCESS",
            S["reason"],
            S["tool"][:64],
            S["workdir"],
            120,
            S["model"],
            extra,
            SAMPLE_END,
            0.002,
            S["version"][:20],
            S["generation"],
        )
        conn.execute(row, good)
        for text, _, _ in HARD:
            conn.execute(row, (*good[:6], text, *good[7:]))
        hostile = {
            "event_type": "telepathy",
            "decision": "MAYBE",
            "latency_ms": -5,
            "cost": -1,
            "created_at": "9999-12-31 23:00:00-05",
            "extra_data": psycopg.types.json.Jsonb({"inputChars": "lots"}),
        }
        names = [
            "host_id",
            "session_id",
            "event_type",
            "agent_name",
            "hook_name",
            "decision",
            "decision_reason",
            "tool_name",
            "working_dir",
            "latency_ms",
            "model_name",
            "extra_data",
            "created_at",
            "cost",
            "client_version",
            "generation_id",
        ]
        for column, value in hostile.items():
            values = list(good)
            values[names.index(column)] = value
            conn.execute(row, values)
        # Double-encoded JSON holding a NUL, nesting over the cap, a count over any column.
        for extra in ('{"a": "\\u0000"}', json.loads("[" * 200 + "]" * 200), {"inputChars": 1e20}):
            values = list(good)
            values[names.index("extra_data")] = psycopg.types.json.Jsonb(extra)
            conn.execute(row, values)
        transcript = [
            {"role": "user", "content": S["transcript"]},
            *[m for m, _ in TRANSCRIPT_MESSAGE_KINDS if _storable(m)],
        ]
        conn.execute(
            "insert into session_transcripts (host_id, session_id, transcript_data, "
            "message_counts) values (%s, %s, %s, %s), ('h', 'counts', '[]', %s)",
            (
                S["host"][:64],
                S["session"],
                psycopg.types.json.Jsonb(transcript),
                psycopg.types.json.Jsonb({"user": 1}),
                psycopg.types.json.Jsonb({"user": "lots"}),
            ),
        )
        conn.execute(
            "insert into session_transcripts (host_id, session_id, transcript_data) "
            "values ('h', 'deep', %s::jsonb)",
            ("[" * 3000 + "]" * 3000,),
        )


def _landing(landing: Path) -> None:
    write_landing_files(
        landing,
        LandingConfig(seed=7, batch_files=2, metric_files=2, days=SMALL.days, end=SAMPLE_END),
    )
    secret_event = _batch_event(
        hostId=S["host"],
        sessionId=S["session"],
        agentName=S["agent"],
        hookName=S["hook"],
        toolName=S["tool"],
        workingDir=S["workdir"],
        modelName=S["model"],
        clientVersion=S["version"],
        generationId=S["generation"],
        decisionReason=S["reason"],
        extraData={S["extra_key"]: S["extra_value"]},
        timestamp="2026-11-17T10:00:00Z",
    )
    events = [secret_event, *[_batch_event(**changes) for changes, _ in BATCH_KINDS]]
    payload = json.dumps({"events": events}, allow_nan=True).encode("utf-8", "surrogatepass")
    (landing / "hostile.json").write_bytes(payload)
    # The same batch under two names, one of them with a byte-order mark.
    (landing / "resent-copy.json").write_bytes(
        b"\xef\xbb\xbf" + json.dumps({"events": [secret_event]}).encode()
    )
    (landing / "a-folder.json").mkdir()
    metric = {
        "metric": "tx_submission",
        "timestamp": 1763460000000,
        "value": {
            "eventId": S["event_id"],
            "agentId": S["agent"],
            "tenantId": S["tenant"],
            "traceId": S["trace"],
            "modelId": S["model"],
            "errorCode": S["error_code"],
            "toolCalls": [{"name": S["tool_call"], "status": "success", "latencyMs": 3}],
        },
    }
    lines = [
        json.dumps(metric),
        *[json.dumps(line, allow_nan=True) for line, _ in METRIC_KINDS],
        '{"metric": "x", "value": {"eventId": "deep", "t": ' + "[" * 50_000 + "]" * 50_000 + "}}",
    ]
    (landing / "hostile.ndjson").write_bytes(
        "\n".join(lines).encode("utf-8", "surrogatepass") + b"\n\xff\xfe not utf-8\n"
    )


def _claude(claude: Path) -> None:
    write_claude_projects(
        claude, ClaudeCodeConfig(seed=7, sessions=4, days=SMALL.days, end=SAMPLE_END)
    )
    project = claude / "hostile-project"
    project.mkdir()
    secret_line = _claude_line(
        cwd=S["cwd"],
        gitBranch=S["branch"],
        sessionId=S["session"],
        requestId=S["request"],
        timestamp="2026-11-17T09:00:00Z",
        message={
            "id": S["message_id"],
            "role": "assistant",
            "model": S["model"],
            "usage": {"input_tokens": 10, "output_tokens": 5},
            "content": [
                {"type": "text", "text": S["content"]},
                {"type": "tool_use", "id": "toolu_x", "name": S["tool_use"], "input": {}},
            ],
        },
    )
    lines = [secret_line, *[_claude_line(**changes) for changes, _ in CLAUDE_KINDS]]
    text = "\n".join(json.dumps(line, allow_nan=True) for line in lines)
    (project / "session.jsonl").write_bytes(
        text.encode("utf-8", "surrogatepass") + b"\n" + b"[" * 50_000 + b"\n"
    )
    (project / "not-a-log.jsonl").mkdir()


@pytest.fixture(scope="module")
def hostile_run(pg_base_url, tmp_path_factory):
    from tests.conftest import fresh_databases

    with pytest.MonkeyPatch.context() as monkeypatch:
        urls = fresh_databases(pg_base_url, monkeypatch)
        _collector(urls.collector)
        _landing(Path(os.environ["ATW_LANDING_DIR"]))
        claude = tmp_path_factory.mktemp("claude-projects")
        _claude(claude)
        home = tmp_path_factory.mktemp("dagster-home")
        env = {
            **os.environ,
            "ATW_CLAUDE_PROJECTS_DIR": str(claude),
            "DAGSTER_HOME": str(home),
            # atw's full log (dbt's and Dagster's lines) goes where the leak scan looks.
            "ATW_LOG_DIR": str(home / "atw-logs"),
            "ATW_REPORT_PATH": str(tmp_path_factory.mktemp("report") / "r.html"),
        }
        run = subprocess.run(
            [sys.executable, "-m", "orchestration.cli", "run"],
            env=env,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=1800,
        )
        yield urls, run, home


def test_the_run_succeeds_with_every_blocking_check_passing(hostile_run):
    _, run, _ = hostile_run
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert " 0 failed" in run.stdout


def test_every_bad_record_is_quarantined_with_its_reason(hostile_run):
    urls, _, _ = hostile_run
    with connect(urls.warehouse) as conn:
        reasons = {}
        for source, reason in conn.execute(
            "select distinct source, reason_code from raw.quarantine"
        ).fetchall():
            reasons.setdefault(source, set()).add(reason)
        unbalanced = conn.execute(
            "select count(*) from raw.load_log where rows_read <> rows_loaded "
            "+ rows_quarantined + rows_skipped_duplicate"
        ).fetchone()[0]
        copies = conn.execute(
            "select max(copy_count) from staging.stg_landing__collector_events"
        ).fetchone()[0]
    assert unbalanced == 0
    assert {reason for _, reason in BATCH_KINDS} <= reasons["landing.collector_batches"] | {
        "unreadable_file"
    }
    assert {reason for _, reason in METRIC_KINDS} | {"too_deep", "invalid_utf8"} <= reasons[
        "landing.metric_events"
    ]
    assert {reason for _, reason in CLAUDE_KINDS} | {"unreadable_file"} <= reasons[
        "claude_code.session_logs"
    ]
    assert {
        "unknown_enum",
        "negative_value",
        "unparseable_timestamp",
        "wrong_type",
        "nul_byte",
    } <= reasons["collector.telemetry_events"]
    assert {r for m, r in TRANSCRIPT_MESSAGE_KINDS if _storable(m)} <= reasons[
        "collector.session_transcripts.messages"
    ]
    assert {"too_deep", "wrong_type"} <= reasons["collector.session_transcripts"]
    assert copies == 2  # the batch re-sent under another name counts once


def test_no_secret_reaches_any_column_of_any_schema(hostile_run):
    urls, _, _ = hostile_run
    leaks = []
    with connect(urls.warehouse) as conn:
        columns = conn.execute(
            """
            select c.table_schema, c.table_name, c.column_name from information_schema.columns c
            join information_schema.tables t using (table_schema, table_name)
            where c.table_schema not in ('pg_catalog', 'information_schema')
                and c.data_type in ('text', 'character varying', 'jsonb', 'json')
            """
        ).fetchall()
        assert len(columns) > 100
        patterns = [
            "%" + n.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            for n in NEEDLES
        ]
        for schema, table, column in columns:
            for (text,) in conn.execute(
                psycopg.sql.SQL(
                    "select {col}::text from {s}.{t} where {col}::text like any(%s)"
                ).format(
                    col=psycopg.sql.Identifier(column),
                    s=psycopg.sql.Identifier(schema),
                    t=psycopg.sql.Identifier(table),
                ),
                (patterns,),
            ):
                leaks += [(schema, table, column, n) for n in NEEDLES if n in text]
        kinds = {k for (k,) in conn.execute("select distinct kind from raw.redaction_log")}
    assert leaks == [], "\n".join(map(str, leaks))
    assert set(PLANTED) <= kinds


def test_no_secret_reaches_the_output_the_logs_dagster_home_or_the_server_log(
    hostile_run, pg_base_url
):
    urls, run, home = hostile_run
    assert "Running with dbt=" in next((home / "atw-logs").iterdir()).read_text()
    with connect(pg_base_url) as conn:
        data_directory = Path(conn.execute("show data_directory").fetchone()[0])
    texts = {"stdout": run.stdout, "stderr": run.stderr}
    for path in [*home.rglob("*"), data_directory / "log"]:
        if path.is_file():
            texts[str(path)] = path.read_bytes().decode("utf-8", "replace")
    leaks = [
        (where, needle) for where, text in texts.items() for needle in NEEDLES if needle in text
    ]
    assert leaks == []
    # The secrets really were in the sources.
    with connect(urls.collector) as conn:
        assert (
            conn.execute(
                "select count(*) from telemetry_events where decision_reason like '%Reason-Pa55%'"
            ).fetchone()[0]
            > 0
        )
