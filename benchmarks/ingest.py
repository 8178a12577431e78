"""Ingestion throughput, measured against the practical limits on this machine, in one run.

    .venv/bin/python benchmarks/ingest.py [--events 1000000]

Prints rows/s of the project's collector → raw event pull next to `psql \\copy` out of the
collector piped into `psql \\copy` into the warehouse for the same rows (into a table defined
like raw.collector_events, and into a bare table), their ratio, the pull's
peak RSS at N and N/4 (flat means streaming), and messages/s and tokens/s of transcript ingestion
(parse + redact + tokenize + load) next to tiktoken's own `encode_ordinary_batch` on the same
messages, and the secret scanner's throughput on its own. Uses the embedded server (or
ATW_WAREHOUSE_URL's server) with throwaway databases.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devtools.sample_data.claude_code_generator import ClaudeCodeConfig, write_claude_projects
from devtools.sample_data.collector_generator import GeneratorConfig, generate_collector
from devtools.sample_data.landing_generator import LandingConfig, write_landing_files
from ingestion.claude_code.loader import load_projects  # noqa: E402
from ingestion.collector.events import RAW_COLUMNS, SOURCE_COLUMNS  # noqa: E402
from ingestion.core import redaction, tokenizer  # noqa: E402
from ingestion.core.connections import connect, target, with_database  # noqa: E402
from ingestion.core.raw_schema import ensure_raw_schema  # noqa: E402
from ingestion.file_drops.loader import load_landing_dir  # noqa: E402
from warehouse import embedded_server

PULL_IN_CHILD = """
import resource, sys, time
from ingestion.collector.events import pull_events
from ingestion.collector.transcripts import pull_transcripts
from ingestion.core.connections import connect
kind, source, warehouse = sys.argv[1:4]
with connect(source) as s, connect(warehouse) as w:
    started = time.perf_counter()
    if kind == "events":
        counts = pull_events(s, w, "bench")
        n = counts.rows_loaded
    else:
        counts, messages = pull_transcripts(s, w, "bench")
        n = messages.rows_loaded
    elapsed = time.perf_counter() - started
print(n, elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _server_base_url() -> str:
    if os.environ.get("ATW_WAREHOUSE_URL"):
        return with_database(os.environ["ATW_WAREHOUSE_URL"], "postgres")
    data_dir = Path(os.environ.get("ATW_EMBEDDED_PG_DIR") or Path(tempfile.mkdtemp()) / "pgdata")
    return embedded_server.ensure_running(data_dir)


def _fresh_db(base: str, prefix: str) -> str:
    return embedded_server.ensure_database(base, f"{prefix}_{uuid.uuid4().hex[:8]}")


def _drop(base: str, url: str) -> None:
    with connect(base, autocommit=True) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(
                sql.Identifier(target(url).dbname)
            )
        )


def _child_pull(kind: str, source: str, warehouse: str) -> tuple[int, float, int]:
    out = subprocess.run(
        [sys.executable, "-c", PULL_IN_CHILD, kind, source, warehouse],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    ).stdout.split()
    return int(out[0]), float(out[1]), int(out[2])


def _psql(url: str, command: str) -> list[str]:
    pg = target(url)
    return [
        "psql",
        "-X",
        "-q",
        "-h",
        pg.host,
        "-p",
        str(pg.port),
        "-U",
        pg.user,
        "-d",
        pg.dbname,
        "-c",
        command,
    ]


def _psql_pipe(source: str, warehouse: str, like_raw: bool) -> tuple[int, float]:
    """psql \\copy out of the collector piped into psql \\copy into a table of the warehouse:
    either a bare table of the source's columns, or one defined like raw.collector_events
    (primary key and defaults), the like-for-like limit for the pull."""
    with connect(warehouse) as conn:
        if like_raw:
            ensure_raw_schema(conn)
            conn.execute("create table psql_copy (like raw.collector_events including all)")
            conn.execute("alter table psql_copy alter column _run_id set default 'psql'")
            columns = RAW_COLUMNS
        else:
            with connect(source) as src:
                ddl = src.execute(
                    "select string_agg(quote_ident(column_name) || ' ' || "
                    "format_type(a.atttypid, a.atttypmod), ', ' order by ordinal_position) "
                    "from information_schema.columns c join pg_attribute a "
                    "on a.attrelid = 'telemetry_events'::regclass "
                    "and a.attname = c.column_name "
                    "where c.table_name = 'telemetry_events'"
                ).fetchone()[0]
            # Column definitions as the source's catalogue prints them (quote_ident'ed).
            conn.execute(sql.SQL("create table psql_copy ({})").format(sql.SQL(ddl)))
            columns = SOURCE_COLUMNS
    env = dict(os.environ, PGOPTIONS="-c TimeZone=UTC")
    started = time.perf_counter()
    # psql's \copy takes its command as text: composed, then rendered.
    query = (
        sql.SQL("select {} from telemetry_events")
        .format(sql.SQL(", ").join(map(sql.Identifier, SOURCE_COLUMNS)))
        .as_string()
    )
    into_columns = sql.SQL(", ").join(map(sql.Identifier, columns)).as_string()
    out = subprocess.Popen(
        _psql(source, f"\\copy ({query}) to stdout"), stdout=subprocess.PIPE, env=env
    )
    into = subprocess.run(
        _psql(warehouse, f"\\copy psql_copy ({into_columns}) from stdin"),
        stdin=out.stdout,
        env=env,
        check=True,
    )
    out.wait()
    elapsed = time.perf_counter() - started
    assert into.returncode == 0 and out.returncode == 0
    with connect(warehouse) as conn:
        rows = conn.execute("select count(*) from psql_copy").fetchone()[0]
    return rows, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    base = _server_base_url()
    end = datetime(2026, 11, 1, tzinfo=UTC)

    print(f"generating {args.events:,} collector events (+ a quarter-size twin) ...", flush=True)
    collectors = {}
    for label, n in (("full", args.events), ("quarter", args.events // 4)):
        url = _fresh_db(base, f"bench_collector_{label}")
        with connect(url) as conn:
            generate_collector(conn, GeneratorConfig(seed=11, events=n, days=60, end=end))
        collectors[label] = url
    with connect(collectors["full"]) as conn:
        rows = conn.execute("select count(*) from telemetry_events").fetchone()[0]

    psql_wh = _fresh_db(base, "bench_wh_psql")
    bare_rows, bare_seconds = _psql_pipe(collectors["full"], psql_wh, like_raw=False)
    psql_like_wh = _fresh_db(base, "bench_wh_psql_like")
    pipe_rows, pipe_seconds = _psql_pipe(collectors["full"], psql_like_wh, like_raw=True)
    ours_wh = _fresh_db(base, "bench_wh_ours")
    ours_rows, ours_seconds, ours_rss = _child_pull("events", collectors["full"], ours_wh)
    quarter_wh = _fresh_db(base, "bench_wh_quarter")
    _, _, quarter_rss = _child_pull("events", collectors["quarter"], quarter_wh)
    assert ours_rows == pipe_rows == bare_rows == rows, (ours_rows, pipe_rows, rows)

    pipe_rate, ours_rate = pipe_rows / pipe_seconds, ours_rows / ours_seconds
    bare_rate = bare_rows / bare_seconds
    print(f"events: {rows:,}")
    print(
        f"psql \\copy | psql \\copy, bare table:        {bare_rate:,.0f} rows/s "
        f"({bare_seconds:.1f} s)"
    )
    print(
        f"psql \\copy | psql \\copy, table like raw:    {pipe_rate:,.0f} rows/s "
        f"({pipe_seconds:.1f} s)"
    )
    print(
        f"project event pull:                         {ours_rate:,.0f} rows/s "
        f"({ours_seconds:.1f} s)"
    )
    print(f"ratio: {ours_rate / pipe_rate:.2f}")
    print(f"ratio to the bare-table pipe: {ours_rate / bare_rate:.2f}")
    print(
        f"peak RSS of the pull: {ours_rss / 1024:,.0f} MiB at N={rows:,}, "
        f"{quarter_rss / 1024:,.0f} MiB at N/4"
    )

    messages, seconds, _ = _child_pull("transcripts", collectors["full"], ours_wh)
    with connect(ours_wh) as conn:
        texts = [
            r[0]
            for r in conn.execute(
                "select content from raw.collector_transcript_messages"
            ).fetchall()
        ]
        tokens = conn.execute(
            "select sum(token_count) from raw.collector_transcript_messages"
        ).fetchone()[0]
    encoding = tokenizer.load_encoding(tokenizer.encoding_name())
    started = time.perf_counter()
    encoding.encode_ordinary_batch(texts)
    raw_seconds = time.perf_counter() - started
    print(f"transcripts: {messages:,} messages, {tokens:,} tokens")
    print(
        f"transcript ingestion: {messages / seconds:,.0f} messages/s, "
        f"{tokens / seconds:,.0f} tokens/s ({seconds:.1f} s)"
    )
    print(
        f"tiktoken encode_ordinary_batch: {len(texts) / raw_seconds:,.0f} messages/s, "
        f"{tokens / raw_seconds:,.0f} tokens/s ({raw_seconds:.1f} s)"
    )
    print(f"transcript ratio: {raw_seconds / seconds:.2f}")
    started = time.perf_counter()
    for text in texts:
        redaction.redact(text)
    scan_seconds = time.perf_counter() - started
    print(
        f"secret scanner alone: {len(texts) / scan_seconds:,.0f} messages/s "
        f"({scan_seconds:.1f} s, {scan_seconds / seconds:.0%} of transcript ingestion time)"
    )
    claude_dir = Path(tempfile.mkdtemp()) / "projects"
    logs = write_claude_projects(
        claude_dir, ClaudeCodeConfig(seed=11, sessions=max(10, args.events // 2_000), end=end)
    )
    with connect(ours_wh) as warehouse:
        started = time.perf_counter()
        claude = load_projects(warehouse, "bench", [claude_dir])
        claude_seconds = time.perf_counter() - started
    assert claude.rows_loaded == logs["lines"]
    print(
        f"Claude Code logs: {logs['files']:,} files, {logs['lines']:,} lines "
        f"({logs['responses']:,} API responses): {logs['lines'] / claude_seconds:,.0f} lines/s "
        f"({claude_seconds:.1f} s)"
    )
    # File drops and Claude Code logs through their record contracts, next to what parsing the
    # same lines alone costs (json.loads: the floor for any loader that reads JSON).
    landing = Path(tempfile.mkdtemp()) / "landing"
    write_landing_files(
        landing,
        LandingConfig(
            seed=11,
            batch_files=max(4, args.events // 20_000),
            metric_files=max(4, args.events // 20_000),
            lines_per_metric_file=2_000,
            end=end,
        ),
    )
    drop_lines = [
        line
        for path in landing.rglob("*.ndjson")
        for line in path.read_bytes().split(b"\n")
        if line.strip()
    ]
    drop_events = sum(len(json.loads(p.read_bytes())["events"]) for p in landing.rglob("*.json"))
    with connect(ours_wh) as warehouse:
        started = time.perf_counter()
        totals = load_landing_dir(warehouse, "bench", landing)
        drop_seconds = time.perf_counter() - started
    read = sum(t.rows_read for t in totals.values())
    started = time.perf_counter()
    for line in drop_lines:
        try:
            json.loads(line)
        except ValueError:
            pass
    for path in landing.rglob("*.json"):
        json.loads(path.read_bytes())
    parse_seconds = time.perf_counter() - started
    print(
        f"file drops: {drop_events:,} batch events + {len(drop_lines):,} metric lines: "
        f"{read / drop_seconds:,.0f} records/s ({drop_seconds:.1f} s); json.loads alone "
        f"{read / parse_seconds:,.0f} records/s; "
        f"loader/parse time {drop_seconds / parse_seconds:.1f}"
    )
    claude_lines = [
        line
        for path in claude_dir.rglob("*.jsonl")
        for line in path.read_bytes().split(b"\n")
        if line.strip()
    ]
    started = time.perf_counter()
    for line in claude_lines:
        json.loads(line)
    claude_parse = time.perf_counter() - started
    print(
        f"Claude Code lines: json.loads alone {len(claude_lines) / claude_parse:,.0f} lines/s; "
        f"loader/parse time {claude_seconds / claude_parse:.1f}"
    )
    print(
        f"benchmark peak RSS (generator and checks): "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB"
    )
    for url in (*collectors.values(), psql_wh, psql_like_wh, ours_wh, quarter_wh):
        _drop(base, url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
