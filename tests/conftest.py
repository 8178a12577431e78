"""Shared fixtures: a real embedded PostgreSQL for the session, fresh databases per test."""

from __future__ import annotations

import json
import os
import tempfile
import threading
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from psycopg import sql

from devtools.sample_data.collector_generator import GeneratorConfig, generate_collector
from ingestion.core.connections import connect
from ingestion.core.settings import Urls
from warehouse import embedded_server

SHARED = Path(__file__).resolve().parents[2] / "shared"
# A fixed end makes every generated dataset reproducible.
SAMPLE_END = datetime(2026, 11, 18, 15, 30, tzinfo=UTC)
SMALL = GeneratorConfig(seed=7, events=3_000, days=12, end=SAMPLE_END)


@pytest.fixture(scope="session")
def pg_base_url(tmp_path_factory) -> str:
    data_dir = tmp_path_factory.mktemp("pg") / "pgdata"
    url = embedded_server.ensure_running(data_dir)
    yield url
    embedded_server.stop(data_dir)


def fresh_databases(base_url: str, monkeypatch) -> Urls:
    """Empty warehouse and collector databases, exported as WAREHOUSE_URL / COLLECTOR_URL."""
    suffix = uuid.uuid4().hex[:10]
    result = Urls(
        warehouse=embedded_server.ensure_database(base_url, f"wh_{suffix}"),
        collector=embedded_server.ensure_database(base_url, f"col_{suffix}"),
    )
    monkeypatch.setenv("WAREHOUSE_URL", result.warehouse)
    monkeypatch.setenv("COLLECTOR_URL", result.collector)
    # An empty landing directory of its own: never the project's `landing/`.
    landing = Path(tempfile.mkdtemp(prefix="landing-"))
    monkeypatch.setenv("LANDING_DIR", str(landing))
    return result


@pytest.fixture
def urls(pg_base_url, monkeypatch) -> Urls:
    return fresh_databases(pg_base_url, monkeypatch)


@pytest.fixture(scope="module")
def module_collector(pg_base_url):
    """Like `small_collector`, shared by the tests of one module (they only read)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        result = fresh_databases(pg_base_url, monkeypatch)
        with connect(result.collector) as conn:
            generate_collector(conn, SMALL)
        yield result


def login_url(url: str, login: str) -> str:
    """The same database reached as another login (the embedded server trusts local logins)."""
    from ingestion.core.connections import target

    pg = target(url)
    return f"postgresql://{login}@/{pg.dbname}?host={pg.host}&port={pg.port}"


def fill_every_source(urls: Urls, claude_dir: Path, monkeypatch) -> None:
    """The demo's three sources at test size, so that every mart has rows: the collector,
    landing files (in LANDING_DIR) and Claude Code logs (CLAUDE_PROJECTS_DIR := claude_dir)."""
    from devtools.sample_data.claude_code_generator import ClaudeCodeConfig, write_claude_projects
    from devtools.sample_data.landing_generator import LandingConfig, write_landing_files

    with connect(urls.collector) as conn:
        generate_collector(conn, SMALL)
    write_landing_files(Path(os.environ["LANDING_DIR"]),
                        LandingConfig(seed=7, batch_files=4, metric_files=3, days=SMALL.days,
                                      end=SAMPLE_END))
    write_claude_projects(claude_dir, ClaudeCodeConfig(seed=7, sessions=6, days=SMALL.days,
                                                       end=SAMPLE_END))
    monkeypatch.setenv("CLAUDE_PROJECTS_DIR", str(claude_dir))


@pytest.fixture(scope="session")
def secured_warehouse(pg_base_url, tmp_path_factory):
    """The sample warehouse built by the whole pipeline after `atw roles`: dbt ran as the
    transformer, loaders as the loader. Shared by the access and Grafana tests, which only read
    (or restore what they change)."""
    from dagster import DagsterInstance

    from orchestration.cli import run_pipeline
    from warehouse.roles import setup_roles

    with pytest.MonkeyPatch.context() as monkeypatch:
        result = fresh_databases(pg_base_url, monkeypatch)
        fill_every_source(result, tmp_path_factory.mktemp("claude-projects"), monkeypatch)
        with connect(result.warehouse) as conn:
            setup_roles(conn)
        monkeypatch.setenv("ATW_REPORT_PATH",
                           str(tmp_path_factory.mktemp("report") / "report.html"))
        run = run_pipeline(DagsterInstance.ephemeral())
    assert run.success
    return result


@pytest.fixture
def small_collector(urls) -> Urls:
    with connect(urls.collector) as conn:
        generate_collector(conn, SMALL)
    return urls


def pytest_configure(config):
    """Refresh dbt's manifest before any test module imports the Dagster definitions, which
    read it at import time. Pin retention and downsampling so that the fixed-date sample is
    neither purged nor downsampled as the calendar moves on, unless a test says so."""
    from orchestration.defs.dbt.manifest import ensure_dbt_manifest

    ensure_dbt_manifest()
    oldest_sample_day = SAMPLE_END.date() - timedelta(days=40)
    sample_age = (datetime.now(UTC).date() - oldest_sample_day).days
    os.environ.setdefault("ATW_RETENTION_DAYS", str(max(90, sample_age)))
    os.environ.setdefault("ATW_DOWNSAMPLE_DAYS", str(max(30, sample_age)))


@pytest.fixture(scope="session")
def dbt_manifest():
    """Tests that need dbt's manifest say so; pytest_configure has already refreshed it."""


def table_checksum(url: str, table: str, order_by: str) -> tuple[int, str]:
    """Row count and md5 over every row's text, in key order: equal means identical tables."""
    with connect(url) as conn:
        return conn.execute(
            sql.SQL("select count(*), md5(coalesce(string_agg(t::text, '|' order by {}), '')) "
                    "from {} as t").format(sql.SQL(order_by), sql.Identifier(*table.split(".")))
        ).fetchone()


RAW_TABLES = {
    "raw.collector_events": "t.source_id",
    "raw.collector_session_transcripts": "t.session_id",
    "raw.collector_transcript_messages": "t.session_id, t.message_index",
    "raw.landed_collector_events": "t.file_path, t.event_index",
    "raw.landed_metric_events": "t.event_id",
}
# Columns that say when/by which run a row was written, not what it holds.
VOLATILE = ("_run_id", "_loaded_at")


def mart_checksums(url: str, filters: dict[str, str] | None = None) -> dict[str, tuple]:
    """Every mart's row count and md5 (the data-quality mart: days before today, today's keeps
    growing; `filters` narrows others: mart name -> `where ...`). Floating-point sums differ in
    their last bits with the order rows are added in, so floats count to 9 decimals."""
    with connect(url) as conn:
        columns = {}
        for mart, column, data_type in conn.execute(
                "select c.relname, a.attname, format_type(a.atttypid, a.atttypmod) "
                "from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                "join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 "
                "and not a.attisdropped "
                "where n.nspname = 'marts' and c.relkind in ('r', 'v') "
                "order by c.relname, a.attnum"):
            columns.setdefault(mart, []).append(
                sql.SQL("round({}::numeric, 9)").format(sql.Identifier(column))
                if data_type in ("double precision", "real") else sql.Identifier(column))
        sums = {}
        for mart, selected in columns.items():
            where = (filters or {}).get(mart, "")
            if mart == "fct_data_quality_daily":
                where = "where validation_date < (now() at time zone 'UTC')::date"
            sums[mart] = conn.execute(
                sql.SQL("select count(*), "
                        "md5(coalesce(string_agg(t::text, '|' order by t::text), '')) "
                        "from (select {} from {} {}) as t").format(
                    sql.SQL(", ").join(selected), sql.Identifier("marts", mart), sql.SQL(where))
            ).fetchone()
    return sums


def content_checksums(url: str) -> dict:
    """Row count and checksum of every raw table, ignoring when and by which run rows came."""
    sums = {}
    with connect(url) as conn:
        for table, order in RAW_TABLES.items():
            schema, name = table.split(".")
            columns = [r[0] for r in conn.execute(
                "select column_name from information_schema.columns "
                "where table_schema = %s and table_name = %s order by ordinal_position",
                (schema, name)).fetchall() if r[0] not in VOLATILE]
            sums[table] = conn.execute(
                sql.SQL("select count(*), md5(string_agg(row({})::text, '|' order by {})) "
                        "from {} as t").format(
                    sql.SQL(", ").join(sql.Identifier("t", c) for c in columns), sql.SQL(order),
                    sql.Identifier(schema, name))
            ).fetchone()
    return sums


class _Hook(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - the http.server API
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook(monkeypatch) -> list:
    """A real HTTP server on localhost as ATW_WEBHOOK_URL; yields the JSON bodies it got."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("ATW_WEBHOOK_URL", f"http://127.0.0.1:{server.server_port}/hook")
    yield server.received
    server.shutdown()
