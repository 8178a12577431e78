"""Shared fixtures: a real embedded PostgreSQL for the session, fresh databases per test, and
warehouses the whole pipeline built once per session that tests clone in a second.

Tests live in three tiers, marked from their folder: tests/unit (pure functions, a throwaway
database at most), tests/integration (real PostgreSQL and dbt on a small scope, the Dagster
definitions), tests/e2e (whole pipeline runs, the browser, ccusage). `pytest -m "not e2e"` is
`make test-fast`.

Under pytest-xdist the workers share one embedded server (in the run's base temporary folder)
and each shared build is made by the first worker that needs it, under a file lock.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from filelock import FileLock
from psycopg import sql
from psycopg.types.json import Jsonb

from devtools.sample_data.collector_generator import (
    EVENT_COLUMNS,
    GeneratorConfig,
    generate_collector,
)
from ingestion.core.connections import connect, with_database
from ingestion.core.settings import Urls
from warehouse import embedded_server

SHARED = Path(__file__).resolve().parents[2] / "shared"
# A fixed end makes every generated dataset reproducible.
SAMPLE_END = datetime(2026, 11, 18, 15, 30, tzinfo=UTC)
SMALL = GeneratorConfig(seed=7, events=3_000, days=12, end=SAMPLE_END)
# Where the retention and downsampling tests cut the sample: its last 5 days stay, its first 7
# go.
CUTOFF = datetime.combine(SAMPLE_END.date() - timedelta(days=4), time(0), tzinfo=UTC)


TIERS = ("unit", "integration", "e2e")


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items):
    """Mark every test with its tier: the folder it lives in (tests/<tier>/...), unless the
    test names another itself (a slow one among fast neighbours)."""
    for item in items:
        tier = Path(item.path).parent.name
        if tier in TIERS and not any(item.get_closest_marker(name) for name in TIERS):
            item.add_marker(getattr(pytest.mark, tier))


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def shared_folder(tmp_path_factory) -> Path:
    """A folder every xdist worker of this run sees (the run's base temporary folder)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if "PYTEST_XDIST_WORKER" in os.environ else base


@pytest.fixture(scope="session", autouse=True)
def _own_dagster_home(tmp_path_factory):
    """Runs that record in DAGSTER_HOME do so in this worker's own, never in the project's
    `.dagster_home` (which `make` exports) nor in another worker's."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("DAGSTER_HOME", str(tmp_path_factory.mktemp("dagster_home")))
        yield


@pytest.fixture(scope="session")
def pg_base_url(tmp_path_factory) -> str:
    """One embedded server for the run, shared by the xdist workers: the last to finish stops
    it (a worker that needs it again later starts it again; its databases are kept)."""
    folder = shared_folder(tmp_path_factory) / "pg"
    users, where = folder / "users", folder / "data-dir"
    lock = FileLock(folder.parent / "pg.lock")
    with lock:
        users.mkdir(parents=True, exist_ok=True)
        (users / _worker()).touch()
        if not where.exists():
            # Not under pytest's temporary folders: every new pytest session on the machine
            # makes their root private again (chmod 700), and the server, which runs as its own
            # system user when root starts it, would lose its data directory mid-run.
            where.write_text(str(Path(tempfile.mkdtemp(prefix="atw-tests-pg-")) / "pgdata"))
        data_dir = Path(where.read_text())
        url = embedded_server.ensure_running(data_dir)
        _non_durable(url)
    yield url
    with lock:
        (users / _worker()).unlink()
        if not any(users.iterdir()):
            embedded_server.stop(data_dir)
            shutil.rmtree(data_dir.parent, ignore_errors=True)


def _non_durable(base_url: str) -> None:
    """The tests' throwaway server skips what only a crash would need (PostgreSQL's
    "non-durable settings"): no fsync, no waiting for the WAL at commit, no full-page images.
    Copying a template and every commit get cheaper; nothing a test sees changes."""
    with connect(base_url, autocommit=True) as conn:
        for name in ("fsync", "synchronous_commit", "full_page_writes"):
            conn.execute(sql.SQL("alter system set {} = off").format(sql.Identifier(name)))
        conn.execute("select pg_reload_conf()")


_LANDING_ROOT: list[Path] = []


def _landing_root() -> Path:
    """One folder per test process for the tests' landing directories, removed when it exits
    (they used to pile up in /tmp, a thousand a suite)."""
    if not _LANDING_ROOT:
        _LANDING_ROOT.append(Path(tempfile.mkdtemp(prefix="atw-test-landings-")))
        atexit.register(shutil.rmtree, _LANDING_ROOT[0], ignore_errors=True)
    return _LANDING_ROOT[0]


def fresh_databases(base_url: str, monkeypatch) -> Urls:
    """Empty warehouse and collector databases, exported as WAREHOUSE_URL / COLLECTOR_URL."""
    suffix = uuid.uuid4().hex[:10]
    result = Urls(
        warehouse=embedded_server.ensure_database(base_url, f"wh_{suffix}"),
        collector=embedded_server.ensure_database(base_url, f"col_{suffix}"),
    )
    monkeypatch.setenv("ATW_WAREHOUSE_URL", result.warehouse)
    monkeypatch.setenv("ATW_COLLECTOR_URL", result.collector)
    # An empty landing directory of its own: never the project's `landing/`.
    landing = Path(tempfile.mkdtemp(prefix="landing-", dir=_landing_root()))
    monkeypatch.setenv("ATW_LANDING_DIR", str(landing))
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


# The agents of `fill_every_source`'s sources, as the report and Grafana name them.
SAMPLE_AGENTS = {
    "Collector",
    "Landing files",
    "Claude Code",
    "Codex",
    "Gemini CLI",
    "OpenCode",
    "Copilot CLI",
}


def use_agent_logs(agent_logs: Path, monkeypatch) -> None:
    """Point each agent CLI's setting at the homes the generator wrote under `agent_logs`."""
    from devtools.sample_data.agent_cli_generator import agent_cli_homes
    from ingestion.agent_cli.sources import BY_NAME

    for cli, homes in agent_cli_homes(agent_logs).items():
        monkeypatch.setenv(BY_NAME[cli].setting, os.pathsep.join(str(home) for home in homes))


def fill_every_source(urls: Urls, claude_dir: Path, monkeypatch) -> None:
    """The demo's sources at test size, so that every mart has rows: the collector, landing
    files (in LANDING_DIR), Claude Code logs (CLAUDE_PROJECTS_DIR := claude_dir) and three
    developers' logs of the other agent CLIs (in `agent-logs` beside claude_dir)."""
    from devtools.sample_data.agent_cli_generator import AgentCliConfig, write_agent_cli_logs
    from devtools.sample_data.claude_code_generator import ClaudeCodeConfig, write_claude_projects
    from devtools.sample_data.landing_generator import LandingConfig, write_landing_files

    with connect(urls.collector) as conn:
        generate_collector(conn, SMALL)
    write_landing_files(
        Path(os.environ["ATW_LANDING_DIR"]),
        LandingConfig(seed=7, batch_files=4, metric_files=3, days=SMALL.days, end=SAMPLE_END),
    )
    write_claude_projects(
        claude_dir, ClaudeCodeConfig(seed=7, sessions=6, days=SMALL.days, end=SAMPLE_END)
    )
    monkeypatch.setenv("ATW_CLAUDE_PROJECTS_DIR", str(claude_dir))
    agent_logs = claude_dir.parent / "agent-logs"
    write_agent_cli_logs(
        agent_logs, AgentCliConfig(seed=7, developers=3, days=SMALL.days, end=SAMPLE_END)
    )
    use_agent_logs(agent_logs, monkeypatch)


@dataclass(frozen=True)
class SharedBuild:
    """Template databases the whole pipeline built, and the files it read and wrote: the
    landing folder, the Claude Code projects folder, the report. Never connected to after the
    build, so that `create database ... template` can copy them."""

    urls: Urls
    files: Path

    @property
    def landing(self) -> Path:
        return self.files / "landing"

    @property
    def claude_projects(self) -> Path:
        return self.files / "claude-projects"

    @property
    def agent_logs(self) -> Path:
        return self.files / "agent-logs"

    @property
    def report(self) -> Path:
        return self.files / "report.html"


def shared_build(
    name: str,
    fill: Callable[[Urls, SharedBuild, pytest.MonkeyPatch], None],
    base_url: str,
    tmp_path_factory,
) -> SharedBuild:
    """Build `name` once per run, whichever xdist worker asks first: `fill` the sources of
    fresh databases (LANDING_DIR is `landing`, ATW_REPORT_PATH is `report`), then run the whole
    pipeline. The other workers wait for it and read where it is."""
    from dagster import DagsterInstance

    from orchestration.cli import run_pipeline

    folder = shared_folder(tmp_path_factory)
    record = folder / f"build-{name}.json"
    with FileLock(folder / f"build-{name}.lock"):
        if record.exists():
            saved = json.loads(record.read_text())
            return SharedBuild(Urls(**saved["urls"]), Path(saved["files"]))
        built = SharedBuild(
            Urls(
                warehouse=embedded_server.ensure_database(base_url, f"tpl_wh_{name}"),
                collector=embedded_server.ensure_database(base_url, f"tpl_col_{name}"),
            ),
            folder / f"build-{name}",
        )
        built.landing.mkdir(parents=True)
        with pytest.MonkeyPatch.context() as monkeypatch:
            monkeypatch.setenv("ATW_WAREHOUSE_URL", built.urls.warehouse)
            monkeypatch.setenv("ATW_COLLECTOR_URL", built.urls.collector)
            monkeypatch.setenv("ATW_LANDING_DIR", str(built.landing))
            monkeypatch.setenv("ATW_REPORT_PATH", str(built.report))
            fill(built.urls, built, monkeypatch)
            run = run_pipeline(DagsterInstance.ephemeral())
        assert run.success
        # Pools the run left open would keep `create database ... template` from copying.
        with connect(base_url, autocommit=True) as conn:
            conn.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity "
                "where datname = any(%s) and pid <> pg_backend_pid()",
                ([_dbname(built.urls.warehouse), _dbname(built.urls.collector)],),
            )
        record.write_text(
            json.dumps(
                {
                    "urls": {"warehouse": built.urls.warehouse, "collector": built.urls.collector},
                    "files": str(built.files),
                }
            )
        )
        return built


def template_lock(built: SharedBuild) -> FileLock:
    """Held while a build is made, copied or read: a copy fails while anyone is connected."""
    return FileLock(built.files.with_suffix(".lock"))


def _dbname(url: str) -> str:
    from ingestion.core.connections import target

    return target(url).dbname


def clone_build(built: SharedBuild, base_url: str, monkeypatch) -> Urls:
    """A copy of a shared build's databases of the test's own (a second, not a pipeline run),
    exported as WAREHOUSE_URL / COLLECTOR_URL with the build's LANDING_DIR and Claude Code
    folder (which the tests only read). `create database ... template` copies every object,
    owner, grant and policy inside the database; what belongs to the database itself
    (`grant ... on database`, `alter database ... set`) it does not, so that is copied here.
    Function bodies name no database (macros/endpoint_functions.sql), so they work in the copy."""
    suffix = uuid.uuid4().hex[:10]
    result = Urls(
        warehouse=with_database(base_url, f"wh_{suffix}"),
        collector=with_database(base_url, f"col_{suffix}"),
    )
    with template_lock(built), connect(base_url, autocommit=True) as conn:
        for template, url in (
            (built.urls.warehouse, result.warehouse),
            (built.urls.collector, result.collector),
        ):
            source, copy = _dbname(template), _dbname(url)
            conn.execute(
                sql.SQL("create database {} template {}").format(
                    sql.Identifier(copy), sql.Identifier(source)
                )
            )
            for grantee, privilege in conn.execute(
                "select a.grantee::regrole::text, a.privilege_type "
                "from pg_database as d, aclexplode(d.datacl) as a "
                "where d.datname = %s and a.grantee <> 0 and a.grantee <> d.datdba",
                (source,),
            ).fetchall():
                conn.execute(
                    sql.SQL("grant {} on database {} to {}").format(
                        sql.SQL(privilege), sql.Identifier(copy), sql.Identifier(grantee)
                    )
                )
            for setting in conn.execute(
                "select unnest(s.setconfig) from pg_db_role_setting as s "
                "join pg_database as d on d.oid = s.setdatabase "
                "where d.datname = %s and s.setrole = 0",
                (source,),
            ).fetchall():
                key, value = setting[0].split("=", 1)
                conn.execute(
                    sql.SQL("alter database {} set {} = {}").format(
                        sql.Identifier(copy), sql.Identifier(key), sql.Literal(value)
                    )
                )
    monkeypatch.setenv("ATW_WAREHOUSE_URL", result.warehouse)
    monkeypatch.setenv("ATW_COLLECTOR_URL", result.collector)
    monkeypatch.setenv("ATW_LANDING_DIR", str(built.landing))
    if built.claude_projects.exists():
        monkeypatch.setenv("ATW_CLAUDE_PROJECTS_DIR", str(built.claude_projects))
    if built.agent_logs.exists():
        use_agent_logs(built.agent_logs, monkeypatch)
    return result


def write_response_across_the_cutoff(claude_dir: Path) -> None:
    """One Claude Code response logged as two lines either side of the cutoff's midnight, with
    the same usage: the first line is the copy counted, and only it is purged."""
    session = "0b5e1d7e-5a1f-4c8e-9d61-3f0c2a7e9b11"
    lines = []
    for index, moment in enumerate(
        (CUTOFF - timedelta(milliseconds=200), CUTOFF + timedelta(milliseconds=300))
    ):
        lines.append(
            {
                "type": "assistant",
                "sessionId": session,
                "uuid": f"{session[:-1]}{index}",
                "parentUuid": None,
                "isSidechain": False,
                "cwd": "/home/dev/midnight",
                "version": "1.0.108",
                "gitBranch": "main",
                "requestId": "req_midnight_1",
                "timestamp": moment.isoformat().replace("+00:00", "Z"),
                "message": {
                    "id": "msg_midnight_1",
                    "type": "message",
                    "role": "assistant",
                    "model": "claude-sonnet-4-20250514",
                    "stop_reason": None,
                    "content": [{"type": "text", "text": f"block {index}"}],
                    "usage": {
                        "input_tokens": 12,
                        "output_tokens": 40,
                        "cache_read_input_tokens": 900,
                        "cache_creation_input_tokens": 0,
                    },
                },
            }
        )
    folder = claude_dir / "-home-dev-midnight"
    folder.mkdir(parents=True)
    # Compact, as Claude Code writes its logs (and as ccusage needs to read their usage).
    (folder / f"{session}.jsonl").write_text(
        "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines)
    )


def _fill_secured(urls: Urls, built: SharedBuild, monkeypatch) -> None:
    from warehouse.roles import setup_roles

    fill_every_source(urls, built.claude_projects, monkeypatch)
    write_response_across_the_cutoff(built.claude_projects)
    with connect(urls.warehouse) as conn:
        setup_roles(conn)


@pytest.fixture(scope="session")
def secured_build(pg_base_url, tmp_path_factory) -> SharedBuild:
    """The sample warehouse built by the whole pipeline after `atw roles`: dbt ran as the
    transformer, loaders as the loader. Every source at test size (`fill_every_source`), and
    one Claude Code response logged either side of CUTOFF's midnight."""
    return shared_build("secured", _fill_secured, pg_base_url, tmp_path_factory)


@pytest.fixture(scope="session")
def secured_warehouse(secured_build, pg_base_url):
    """A copy of the secured build shared by the tests that only read it (or restore what they
    change): the access and Grafana tests."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        return clone_build(secured_build, pg_base_url, monkeypatch)


@pytest.fixture
def secured_clone(secured_build, pg_base_url, monkeypatch) -> Urls:
    """A copy of the secured build of the test's own, to change as it likes."""
    return clone_build(secured_build, pg_base_url, monkeypatch)


def _fill_collector(urls: Urls, built: SharedBuild, monkeypatch) -> None:
    with connect(urls.collector) as conn:
        generate_collector(conn, SMALL)


@pytest.fixture(scope="session")
def collector_build(pg_base_url, tmp_path_factory) -> SharedBuild:
    """`small_collector` (and an empty landing folder) built by the whole pipeline."""
    return shared_build("collector", _fill_collector, pg_base_url, tmp_path_factory)


@pytest.fixture
def collector_clone(collector_build, pg_base_url, monkeypatch) -> Urls:
    """A copy of the collector build of the test's own, to change as it likes."""
    return clone_build(collector_build, pg_base_url, monkeypatch)


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
            sql.SQL(
                "select count(*), md5(coalesce(string_agg(t::text, '|' order by {}), '')) "
                "from {} as t"
            ).format(sql.SQL(order_by), sql.Identifier(*table.split(".")))
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
            "order by c.relname, a.attnum"
        ):
            columns.setdefault(mart, []).append(
                sql.SQL("round({}::numeric, 9)").format(sql.Identifier(column))
                if data_type in ("double precision", "real")
                else sql.Identifier(column)
            )
        sums = {}
        for mart, selected in columns.items():
            where = (filters or {}).get(mart, "")
            if mart == "fct_data_quality_daily":
                where = "where validation_date < (now() at time zone 'UTC')::date"
            sums[mart] = conn.execute(
                sql.SQL(
                    "select count(*), "
                    "md5(coalesce(string_agg(t::text, '|' order by t::text), '')) "
                    "from (select {} from {} {}) as t"
                ).format(
                    sql.SQL(", ").join(selected), sql.Identifier("marts", mart), sql.SQL(where)
                )
            ).fetchone()
    return sums


def content_checksums(url: str) -> dict:
    """Row count and checksum of every raw table, ignoring when and by which run rows came."""
    sums = {}
    with connect(url) as conn:
        for table, order in RAW_TABLES.items():
            schema, name = table.split(".")
            columns = [
                r[0]
                for r in conn.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = %s and table_name = %s order by ordinal_position",
                    (schema, name),
                ).fetchall()
                if r[0] not in VOLATILE
            ]
            sums[table] = conn.execute(
                sql.SQL(
                    "select count(*), md5(string_agg(row({})::text, '|' order by {})) from {} as t"
                ).format(
                    sql.SQL(", ").join(sql.Identifier("t", c) for c in columns),
                    sql.SQL(order),
                    sql.Identifier(schema, name),
                )
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


def insert_collector_events(url, session_id: str, count: int) -> None:
    """`count` new events of one session in the collector at `url`, like its newest one."""
    with connect(url) as conn:
        columns = sql.SQL(", ").join(map(sql.Identifier, EVENT_COLUMNS))
        template = list(
            conn.execute(
                sql.SQL("select {} from telemetry_events order by id desc limit 1").format(columns)
            ).fetchone()
        )
        template[EVENT_COLUMNS.index("extra_data")] = Jsonb(
            template[EVENT_COLUMNS.index("extra_data")]
        )
        template[EVENT_COLUMNS.index("session_id")] = session_id
        for n in range(count):
            # Distinct times and generations: otherwise staging rightly takes them for
            # retried copies of one event.
            template[EVENT_COLUMNS.index("created_at")] = datetime.now(UTC)
            template[EVENT_COLUMNS.index("generation_id")] = f"{session_id}-{n}"
            conn.execute(
                sql.SQL("insert into telemetry_events ({}) values ({})").format(
                    columns, sql.SQL(", ").join([sql.Placeholder()] * len(EVENT_COLUMNS))
                ),
                template,
            )
