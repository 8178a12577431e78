"""What a nightly run costs as history grows: the same new day on top of N events of history.

For each history size (default 1 M and 5 M collector events), in a process and on a throwaway
embedded PostgreSQL of its own:

1. the generator writes the history, ending at midnight UTC the day before the run's day:
   `--daily-events` collector events a day (so 1 M events is about 70 days), the landing
   drops, Claude Code logs at a team's volume (one session per
   `--events-per-claude-session` collector events: about 100,000 API responses at 5 M), and
   the team's other agents: 20 developers, each with two of Codex, Gemini CLI, OpenCode and
   Copilot CLI, every day of the history (devtools/sample_data/agent_cli_generator.py);
2. the first build: `atw run`'s job (`everything`), in this process;
3. the nightly: one more day of collector events, Claude Code sessions and the other agents'
   sessions (yesterday, whole, whatever the time of the run: the history ends the day
   before), then the same job;
4. a run with nothing new;
5. a run with nothing new that compares every day and file with the sources, as the first run a
   week after the last such comparison does (`ATW_RECONCILE_ALL_HOURS`), or `atw run
   --reconcile-all`.

Retention is set to keep the whole history (`ATW_RETENTION_DAYS` = its days + 30): with the
default 90 days, the 5 M history's first build would purge most of it, and its nightly would
measure the aftermath of that purge rather than a day on top of 5 M events.

It prints each run's stages (loads, each dbt step, the checks, the rest), peak RSS of the run's
process and of its dbt processes, the warehouse's size per million events, and, side by side,
the nightly and unchanged-run ratios between the sizes. Targets (#17): nightly(5 M) /
nightly(1 M) <= 1.3, an unchanged run <= 30 s at 1 M, peak RSS flat.

The incremental models choose their days against a build watermark: the write horizon (the
start of the oldest transaction still open) taken when their last build chose its days, never
older than `incremental_loaded_at_margin_hours`. So a nightly minutes after the first build
reads only what came since, as it would a day later. `--late-load-margin-hours` (default 6, the
project's) sets that cap.

Likewise the collector pull's overlap floor, the id below which no collector row can change any
more, is the watermark of the pull at least `ATW_COLLECTOR_LATE_HOURS` (26) before the previous
one, and the pull checks the ids above it for rewrites (the cost worker's): those of the day or
so before the previous pull when micro-batches run, of two days when only the nightly runs (the
pull two nights before is 24 h before the previous one, not 26). Right after a first build no
pull is that old: the floor would be 0, and the pull would read the xmin of every collector row,
as only an installation's first 26 hours do. So the benchmark pulls the collector once before
the history's last day is written (a pull of its own, not timed), and the nightly's late window
is the time from that pull to the first build's: its floor is that pull's watermark, and it
checks the history's last day, whose last minutes the cost worker settles when the new day is
written. The first build then loads that last day and builds everything from scratch.

    .venv/bin/python benchmarks/nightly.py [--sizes 1000000 5000000] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.freshness import isolate_environment  # noqa: E402
from devtools.sample_data.agent_cli_generator import (  # noqa: E402
    AgentCliConfig,
    agent_cli_homes,
    write_agent_cli_logs,
)
from devtools.sample_data.claude_code_generator import (  # noqa: E402
    ClaudeCodeConfig,
    write_claude_projects,
)
from devtools.sample_data.collector_generator import (  # noqa: E402
    GeneratorConfig,
    generate_collector,
)
from devtools.sample_data.landing_generator import LandingConfig, write_landing_files  # noqa: E402
from ingestion.core.connections import connect  # noqa: E402
from warehouse import embedded_server  # noqa: E402

STAGES = ("loads", "dbt_staging", "dbt_calls", "dbt_marts", "dbt_monitoring", "checks", "other")


def _stage(step_key: str) -> str:
    if "_gx_" in step_key or "reconciliation" in step_key:
        return "checks"
    if step_key.startswith("dbt_"):
        return step_key
    if step_key.startswith("raw__") or step_key.endswith("_asset"):
        return "loads"
    return "other"


def _steps(run_id: str) -> dict[str, float]:
    """Seconds per step of the run."""
    from dagster import DagsterEventType, DagsterInstance

    starts: dict[str, float] = {}
    seconds: dict[str, float] = {}
    with DagsterInstance.get() as instance:
        for entry in instance.all_logs(run_id):
            event = entry.dagster_event
            if event is None:
                continue
            if event.event_type == DagsterEventType.STEP_START:
                starts[entry.step_key] = entry.timestamp
            elif (
                event.event_type in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE)
                and entry.step_key in starts
            ):
                seconds[entry.step_key] = entry.timestamp - starts[entry.step_key]
    return seconds


def _stages(steps: dict[str, float]) -> dict[str, float]:
    """Seconds per stage: the sum of its steps' durations (they run one after another)."""
    totals: dict[str, float] = defaultdict(float)
    for step_key, seconds in steps.items():
        totals[_stage(step_key)] += seconds
    return {stage: round(totals.get(stage, 0.0), 1) for stage in STAGES}


def _run(label: str, log: Path, tags: dict | None = None) -> dict:
    from orchestration.lib.runs import run_job

    started = time.perf_counter()
    with open(log, "a") as out:
        saved = os.dup(1), os.dup(2)
        os.dup2(out.fileno(), 1)
        os.dup2(out.fileno(), 2)
        try:
            result = run_job("everything", tags=tags)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
    seconds = time.perf_counter() - started
    if not result.success:
        raise RuntimeError(f"the {label} run failed: see {log}")
    steps = _steps(result.run_id)
    stages = _stages(steps)
    print(f"  {label}: {seconds:.1f} s  " + ", ".join(f"{k} {v}" for k, v in stages.items()))
    # The check steps are many and short: the slowest are where a stage's time goes.
    slowest = sorted(steps.items(), key=lambda item: -item[1])[:8]
    print("    slowest steps: " + ", ".join(f"{key} {value:.1f}" for key, value in slowest))
    return {"seconds": round(seconds, 1), "stages": stages}


def _generate(urls: dict, work: Path, args, events: int, end: datetime) -> dict:
    days = max(1, round(events / args.daily_events))
    with connect(urls["ATW_COLLECTOR_URL"]) as conn:
        report = generate_collector(
            conn, GeneratorConfig(seed=args.seed, events=events, days=days, end=end)
        )
    landing = write_landing_files(
        work / "landing",
        LandingConfig(
            seed=args.seed,
            batch_files=days,
            metric_files=max(1, days // 7),
            days=days,
            end=end,
        ),
    )
    claude = write_claude_projects(
        work / "claude-projects",
        ClaudeCodeConfig(
            seed=args.seed,
            sessions=max(1, events // args.events_per_claude_session),
            days=days,
            end=end,
        ),
    )
    agent_records = _agent_logs(work, "history", args.seed, days, end)
    return {
        "days": days,
        "collector_events": report.events + report.duplicate_events,
        "claude_code_responses": claude["responses"],
        "agent_cli_usage_records": agent_records,
        "landing_files": sum(landing.values()),
    }


def _agent_logs(work: Path, name: str, seed: int, days: int, end: datetime) -> int:
    """The team's Codex, Gemini CLI, OpenCode and Copilot CLI logs for `days` days to `end`, in
    a folder of developer homes of their own (a day's new sessions, beside the history's), and
    every setting pointed at every home written so far. Returns the usage records written."""
    written = write_agent_cli_logs(
        work / "agent-logs" / name, AgentCliConfig(seed=seed, days=days, end=end)
    )
    homes: dict[str, list[Path]] = defaultdict(list)
    for folder in sorted((work / "agent-logs").iterdir()):
        for cli, found in agent_cli_homes(folder).items():
            homes[cli] += found
    from ingestion.agent_cli.sources import BY_NAME

    for cli, found in homes.items():
        os.environ[BY_NAME[cli].setting] = os.pathsep.join(str(home) for home in found)
    return sum(value for key, value in written.items() if key.endswith("_usage_records"))


def _append_day(urls: dict, work: Path, args, midnight: datetime, seed_offset: int = 1) -> dict:
    """A whole day's events, the UTC day before `midnight`, whatever the time of the run (the
    landing drops, named by number, are left as they are)."""
    end = midnight - timedelta(microseconds=1)
    with connect(urls["ATW_COLLECTOR_URL"]) as conn:
        report = generate_collector(
            conn,
            GeneratorConfig(
                seed=args.seed + seed_offset, events=args.daily_events, days=0, end=end
            ),
        )
    claude = write_claude_projects(
        work / "claude-projects",
        ClaudeCodeConfig(
            seed=args.seed + seed_offset,
            sessions=max(1, args.daily_events // args.events_per_claude_session),
            days=1,
            end=end,
        ),
    )
    agent_records = _agent_logs(work, f"day-{seed_offset}", args.seed + seed_offset, 1, end)
    return {
        "collector_events": report.events + report.duplicate_events,
        "claude_code_responses": claude["responses"],
        "agent_cli_usage_records": agent_records,
    }


def _earlier_pull(urls: dict) -> None:
    """A collector pull before the history's last day is written (see the module's doc)."""
    from ingestion.collector.events import pull_events

    with (
        connect(urls["ATW_COLLECTOR_URL"]) as source,
        connect(urls["ATW_WAREHOUSE_URL"]) as warehouse,
    ):
        pull_events(source, warehouse, "benchmark-earlier-pull")


def _hours_between_pulls(urls: dict) -> float:
    """From the earlier pull to the first build's, on the collector's clock."""
    with connect(urls["ATW_WAREHOUSE_URL"]) as conn:
        (seconds,) = conn.execute(
            "select extract(epoch from max(pulled_at) - min(pulled_at)) from raw.collector_pulls"
        ).fetchone()
    # Any window up to the time between them reaches the earlier pull; a second less keeps
    # rounding from missing it.
    return (float(seconds) - 1) / 3600


def _peak_rss_mib() -> dict:
    # ru_maxrss is in KiB on Linux; the children are the dbt processes (warm dbt and its forks).
    return {
        "run_process": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "dbt_processes": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
    }


def one_size(events: int, args) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"atw-nightly-{events}-"))
    pgdata = work / "pgdata"
    try:
        base_url = embedded_server.ensure_running(pgdata)
        urls = isolate_environment(work, base_url, pgdata)
        os.environ["ATW_DBT_VARS"] = json.dumps(
            {"incremental_loaded_at_margin_hours": args.late_load_margin_hours}
        )
        # Retention keeps the whole history: a 5 M history that the first build purged down to
        # 90 days would measure a purge of months, and a smaller warehouse, not 5 M events.
        history_days = max(1, round(events / args.daily_events))
        os.environ["ATW_RETENTION_DAYS"] = str(max(90, history_days + 30))
        now = datetime.now(UTC)
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        # The history ends a day before today; the nightly then loads yesterday whole.
        history_end = midnight - timedelta(days=1)
        print(f"history of {events:,} events ending {history_end:%Y-%m-%d} 00:00 UTC", flush=True)
        started = time.perf_counter()
        history = _generate(urls, work, args, events, history_end - timedelta(days=1))
        print(f"  generated in {time.perf_counter() - started:.0f} s: {history}", flush=True)

        from warehouse.roles import setup_roles

        with connect(urls["ATW_WAREHOUSE_URL"]) as conn:
            setup_roles(conn)
        _earlier_pull(urls)
        last_day = _append_day(urls, work, args, history_end, seed_offset=1000)
        history["days"] += 1
        for key in ("collector_events", "claude_code_responses"):
            history[key] += last_day[key]
        log = work / "runs.log"
        first = _run("first build", log)
        os.environ["ATW_COLLECTOR_LATE_HOURS"] = str(_hours_between_pulls(urls))
        appended = _append_day(urls, work, args, midnight)
        print(f"  appended yesterday: {appended}", flush=True)
        nightly = _run("nightly", log)
        unchanged = _run("unchanged", log)
        from orchestration.lib.source_assets import RECONCILE_ALL, RECONCILE_TAG

        compared = _run("unchanged, every day compared", log, {RECONCILE_TAG: RECONCILE_ALL})
        with connect(urls["ATW_WAREHOUSE_URL"]) as conn:
            size = conn.execute("select pg_database_size(current_database())").fetchone()[0]
        return {
            "events": events,
            "history": history,
            "appended": appended,
            "first_build": first,
            "nightly": nightly,
            "unchanged": unchanged,
            "unchanged_compared": compared,
            "warehouse_mib": round(size / 2**20),
            "warehouse_mib_per_million_events": round(size / 2**20 / (events / 1e6)),
            "peak_rss_mib": _peak_rss_mib(),
        }
    finally:
        embedded_server.stop(pgdata)
        if args.keep:
            print(f"  kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _table(results: list[dict]) -> None:
    sizes = [f"{r['events'] / 1e6:g} M" for r in results]
    rows = [
        ("history days", [r["history"]["days"] for r in results]),
        ("Claude Code responses", [r["history"]["claude_code_responses"] for r in results]),
        ("first build, s", [r["first_build"]["seconds"] for r in results]),
        ("nightly, s", [r["nightly"]["seconds"] for r in results]),
        *(
            (f"  nightly {stage}, s", [r["nightly"]["stages"][stage] for r in results])
            for stage in STAGES
        ),
        ("unchanged run, s", [r["unchanged"]["seconds"] for r in results]),
        (
            "  every day compared (weekly), s",
            [r["unchanged_compared"]["seconds"] for r in results],
        ),
        ("peak RSS run process, MiB", [r["peak_rss_mib"]["run_process"] for r in results]),
        ("peak RSS dbt processes, MiB", [r["peak_rss_mib"]["dbt_processes"] for r in results]),
        ("warehouse, MiB per M events", [r["warehouse_mib_per_million_events"] for r in results]),
    ]
    print(f"\n| | {' | '.join(sizes)} |")
    print(f"| --- |{' --- |' * len(sizes)}")
    for label, values in rows:
        print(f"| {label} | {' | '.join(f'{v:,}' for v in values)} |")
    if len(results) > 1:
        small, large = results[0], results[-1]
        for key in ("nightly", "unchanged"):
            ratio = large[key]["seconds"] / small[key]["seconds"]
            print(f"{key}({sizes[-1]}) / {key}({sizes[0]}) = {ratio:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--daily-events", type=int, default=14_000)
    parser.add_argument("--events-per-claude-session", type=int, default=800)
    parser.add_argument("--late-load-margin-hours", type=float, default=6)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", action="store_true", help="keep each size's temp folder")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print("RESULT " + json.dumps(one_size(args.one, args)), flush=True)
        return 0
    print(
        f"machine: {os.cpu_count()} cores, {platform.system()} {platform.machine()}, Python "
        f"{platform.python_version()}; load average {os.getloadavg()[0]:.1f} (noisy: compare "
        "within one run)",
        flush=True,
    )
    results = []
    for events in args.sizes:
        # A process per size: its peak RSS is its own, and nothing is cached across sizes.
        command = [sys.executable, __file__, "--one", str(events)]
        for option in (
            "daily_events",
            "events_per_claude_session",
            "late_load_margin_hours",
            "seed",
        ):
            command += [f"--{option.replace('_', '-')}", str(getattr(args, option))]
        command += ["--keep"] if args.keep else []
        with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as child:
            for line in child.stdout:
                if line.startswith("RESULT "):
                    results.append(json.loads(line.removeprefix("RESULT ")))
                else:
                    print(line, end="", flush=True)
        if child.returncode != 0:
            print(f"the {events:,}-event history failed", file=sys.stderr)
            return 1
    _table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
