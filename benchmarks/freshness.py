"""Freshness: seconds from an event reaching the collector to its session in the marts, on the
micro-batch path (the `micro_batch` sensor and its runs, under the Dagster daemon).

    .venv/bin/python benchmarks/freshness.py [--events 60] [--interval 3] [--duration 180]

Starts an embedded PostgreSQL of its own in a temp dir, fills a small collector (a few thousand
events ending now), sets up the roles (`atw roles`), builds everything once in-process, then
starts `dagster-daemon run` (or `dagster dev` with --server dev) on a temp DAGSTER_HOME. While
the sensor runs, it inserts one event every --interval seconds (at most --events, for at most
--duration seconds) into the collector's telemetry_events and polls
marts.fct_session_summaries every 0.5 s until each event is counted there (sessions of
--session-size events, like a real client's: one session per event would make the host look
like a pre-2.0 client whose sessions the warehouse derives).
Prints p50/p95/max lag, the micro-batch runs launched and where their time went, and PASS/FAIL
against the 60 s target. Exits 0 either way unless something crashed; --keep keeps the temp dir
(Dagster instance, daemon log, freshness.json with every event and run).

    .venv/bin/python benchmarks/freshness.py --history /tmp/atw-nightly-5000000-...

measures on a warehouse that `benchmarks/nightly.py --keep` left (5 M events of history, say)
instead: its databases and folders, already built, nothing generated; the folder is kept.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402
import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

from devtools.sample_data import catalog  # noqa: E402
from devtools.sample_data.collector_generator import (  # noqa: E402
    EVENT_COLUMNS,
    GeneratorConfig,
    _SessionWriter,
    generate_collector,
)
from ingestion.core.connections import connect  # noqa: E402
from ingestion.core.settings import DBT_PROJECT_DIR  # noqa: E402
from orchestration.defs.automation.sensors import MICRO_BATCH_TAG  # noqa: E402
from warehouse import embedded_server  # noqa: E402

TARGET_SECONDS = 60.0
POLL_SECONDS = 0.5
MART = "marts.fct_session_summaries"
MART_KEY = ("marts", "fct_session_summaries")


@dataclass
class Event:
    index: int
    session_id: str
    position: int  # 1-based within its session: seen once the mart counts this many calls
    inserted_at: float
    seen_at: float | None = None

    @property
    def lag(self) -> float | None:
        return None if self.seen_at is None else self.seen_at - self.inserted_at


def _percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), for small samples."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * q
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@contextmanager
def _output_to(path: Path):
    """dbt's own output of the in-process run goes to a file: fd level, since dbt is a child
    process writing to the inherited descriptors."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with path.open("w") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def isolate_environment(work: Path, base_url: str, pgdata: Path) -> dict[str, str]:
    """Point every setting the pipeline and the daemon read at throwaway places, so neither the
    project's .warehouse/ nor its .dagster_home/ is touched."""
    urls = {
        "ATW_WAREHOUSE_URL": embedded_server.ensure_database(base_url, "warehouse"),
        "ATW_COLLECTOR_URL": embedded_server.ensure_database(base_url, "collector"),
    }
    folders = {
        "ATW_LANDING_DIR": work / "landing",
        "ATW_CLAUDE_PROJECTS_DIR": work / "claude-projects",
        "DAGSTER_HOME": work / "dagster_home",
    }
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    os.environ.update(urls)
    os.environ.update({name: str(path) for name, path in folders.items()})
    # Postgres run storage (ATW_DAGSTER_STORAGE=postgres) then lands on this temp server too.
    os.environ["ATW_EMBEDDED_PG_DIR"] = str(pgdata)
    os.environ.pop("ATW_DAGSTER_PG_URL", None)
    os.environ.pop("ATW_WEBHOOK_URL", None)
    # A stale manifest is rebuilt by running `dbt`, found beside this Python or on PATH.
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    _isolate_dbt_targets(work / "dbt-target")
    return urls


def _isolate_dbt_targets(target: Path) -> None:
    """dagster-dbt gives every dbt invocation a target folder of its own (about 3 MB) under
    DBT_TARGET_PATH, by default the project's dbt_project/target: a benchmark launches dozens.
    The manifest the definitions load is refreshed first, where it belongs, and the partial
    parse file is copied along so that dbt does not parse the project from scratch each time."""
    from orchestration.defs.dbt.manifest import ensure_dbt_manifest

    ensure_dbt_manifest()
    target.mkdir(parents=True, exist_ok=True)
    partial_parse = DBT_PROJECT_DIR / "target" / "partial_parse.msgpack"
    if partial_parse.exists():
        shutil.copy(partial_parse, target / partial_parse.name)
    os.environ["DBT_TARGET_PATH"] = str(target)


def _event_host() -> catalog.Host:
    """A host whose client sends one session id per session: its sessions keep the id the
    client sent (`collector:<session_id>`) instead of being derived from host + directory."""
    return next(h for h in catalog.HOSTS if not h.per_process_session_ids and h.reports_token_usage)


class EventSource:
    """Realistic rows from the generator's own session writer; created_at is the insert's
    now(), the collector's default."""

    def __init__(self, collector_url: str, seed: int):
        self.host = _event_host()
        self.writer = _SessionWriter(random.Random(seed), GeneratorConfig(seed=seed))
        self.columns = [c for c in EVENT_COLUMNS if c != "created_at"]
        self.created_at = EVENT_COLUMNS.index("created_at")
        self.session_column = EVENT_COLUMNS.index("session_id")
        self.conn = connect(collector_url, autocommit=True)
        self.sql = sql.SQL("insert into telemetry_events ({}) values ({})").format(
            sql.SQL(", ").join(map(sql.Identifier, self.columns)),
            sql.SQL(", ").join([sql.Placeholder()] * len(self.columns)),
        )

    def insert(self, session_id: str) -> float:
        [(_, row)] = self.writer.events(self.host, session_id, datetime.now(UTC), 1)
        values = [v for i, v in enumerate(row) if i != self.created_at]
        values[self.session_column] = session_id
        self.conn.execute(self.sql, values)  # autocommit: committed when this returns
        return time.time()

    def close(self) -> None:
        self.conn.close()


class MartPoller:
    def __init__(self, warehouse_url: str, prefix: str):
        self.conn = connect(warehouse_url, autocommit=True)
        self.pattern = f"collector:{prefix}%"
        self.errors = 0

    def call_counts(self) -> dict[str, int]:
        try:
            rows = self.conn.execute(
                sql.SQL("select session_id, call_count from {} where session_key like %s").format(
                    sql.Identifier(*MART.split("."))
                ),
                (self.pattern,),
            ).fetchall()
        except psycopg.Error:
            # dbt swaps a rebuilt table in by renaming it: a read can race the swap, and the
            # next poll half a second later sees the new table.
            self.errors += 1
            return {}
        return dict(rows)

    def close(self) -> None:
        self.conn.close()


def _start_dagster(server: str, log_path: Path) -> tuple[subprocess.Popen, str]:
    """The daemon alone runs the sensor and the run queue, which is all the micro-batch path
    needs; `dagster dev` (`make ui`) adds the webserver, which competes for the two cores."""
    bin_dir = Path(sys.executable).parent
    if server == "dev":
        port = _free_port()
        command = [str(bin_dir / "dagster"), "dev", "-w", "workspace.yaml", "-p", str(port)]
        label = f"dagster dev (webserver on port {port})"
    else:
        command = [str(bin_dir / "dagster-daemon"), "run", "-w", "workspace.yaml"]
        label = "dagster-daemon run"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    return process, label


def _stop_dagster(process: subprocess.Popen) -> None:
    """SIGTERM the process group, then anything of ours that outlived it (a run worker may
    sit in a session of its own), then SIGKILL what still refuses."""
    try:
        family = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        family = []
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    survivors = []
    for child in family:
        try:
            child.terminate()
            survivors.append(child)
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(survivors, timeout=10)
    for child in alive:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass


def _log_tail(path: Path, lines: int = 20) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _wait_for_first_tick(
    instance, process: subprocess.Popen, log_path: Path, timeout: float
) -> float:
    """The sensor's first tick only records the sources' state: events inserted before it
    would never trigger a run. Returns the seconds it took."""
    from dagster._core.definitions.run_request import InstigatorType

    started = time.time()
    while time.time() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(
                f"dagster exited with code {process.returncode}:\n{_log_tail(log_path)}"
            )
        for state in instance.all_instigator_state(instigator_type=InstigatorType.SENSOR):
            data = state.instigator_data
            if state.name == "micro_batch" and data is not None and data.cursor:
                return time.time() - started
        time.sleep(1.0)
    raise TimeoutError(
        f"the micro_batch sensor did not tick within {timeout:.0f} s:\n{_log_tail(log_path)}"
    )


def _measure(source: EventSource, poller: MartPoller, prefix: str, args) -> list[Event]:
    events: list[Event] = []
    started = time.time()
    next_insert = started
    pending: dict[str, list[Event]] = defaultdict(list)

    def poll() -> None:
        counts = poller.call_counts()
        now = time.time()
        for session_id, waiting in list(pending.items()):
            seen = counts.get(session_id, 0)
            for event in [e for e in waiting if e.position <= seen]:
                event.seen_at = now
                waiting.remove(event)
            if not waiting:
                del pending[session_id]

    while len(events) < args.events and time.time() - started < args.duration:
        if time.time() >= next_insert:
            index = len(events)
            session_id = f"{prefix}{index // args.session_size:04d}"
            position = index % args.session_size + 1
            event = Event(index, session_id, position, source.insert(session_id))
            events.append(event)
            pending[session_id].append(event)
            next_insert += args.interval
        poll()
        time.sleep(max(0.0, min(POLL_SECONDS, next_insert - time.time())))
    print(
        f"inserted {len(events)} events in {time.time() - started:.0f} s; waiting up to "
        f"{args.drain:.0f} s for the rest to reach {MART} ...",
        flush=True,
    )
    drain_until = time.time() + args.drain
    while pending and time.time() < drain_until:
        poll()
        time.sleep(POLL_SECONDS)
    return events


def _let_running_runs_finish(instance, timeout: float) -> None:
    """The run in flight when the last event was seen would be cut off by the shutdown and
    missing from the breakdown: let it end (a run still queued may start and is cut off)."""
    import dagster as dg

    running = dg.RunsFilter(
        tags={MICRO_BATCH_TAG: "micro_batch"},
        statuses=[dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED],
    )
    waiting = {run.run_id for run in instance.get_runs(filters=running)}
    deadline = time.time() + timeout
    while waiting and time.time() < deadline:
        time.sleep(1.0)
        waiting &= {run.run_id for run in instance.get_runs(filters=running)}


@dataclass
class RunTimes:
    run_id: str
    status: str
    created: float
    dequeued: float | None
    started: float | None
    ended: float | None
    mart_at: float | None
    steps: dict[str, tuple[float, float]]


def _run_times(instance) -> list[RunTimes]:
    import dagster as dg
    from dagster import DagsterEventType

    records = instance.get_run_records(
        filters=dg.RunsFilter(tags={MICRO_BATCH_TAG: "micro_batch"}), ascending=True
    )
    result = []
    for record in records:
        run_id = record.dagster_run.run_id
        dequeued = started = ended = mart_at = None
        step_starts: dict[str, float] = {}
        steps: dict[str, tuple[float, float]] = {}
        for entry in instance.all_logs(run_id):
            event = entry.dagster_event
            if event is None:
                continue
            kind = event.event_type
            # The queued-run daemon marks the dequeue by moving the run to STARTING.
            if kind == DagsterEventType.RUN_STARTING:
                dequeued = entry.timestamp
            elif kind == DagsterEventType.RUN_START:
                started = entry.timestamp
            elif kind in (
                DagsterEventType.RUN_SUCCESS,
                DagsterEventType.RUN_FAILURE,
                DagsterEventType.RUN_CANCELED,
            ):
                ended = entry.timestamp
            elif kind == DagsterEventType.STEP_START:
                step_starts[entry.step_key] = entry.timestamp
            elif (
                kind
                in (
                    DagsterEventType.STEP_SUCCESS,
                    DagsterEventType.STEP_FAILURE,
                    DagsterEventType.STEP_SKIPPED,
                )
                and entry.step_key in step_starts
            ):
                steps[entry.step_key] = (step_starts[entry.step_key], entry.timestamp)
            elif kind == DagsterEventType.ASSET_MATERIALIZATION and event.asset_key == dg.AssetKey(
                list(MART_KEY)
            ):
                mart_at = entry.timestamp
        result.append(
            RunTimes(
                run_id,
                record.dagster_run.status.value,
                record.create_timestamp.timestamp(),
                dequeued,
                started,
                ended,
                mart_at,
                steps,
            )
        )
    return result


def _step_label(step_key: str) -> str:
    return "GX checks" if "_gx_" in step_key else step_key


def _report_runs(runs: list[RunTimes], stopped_at: float) -> None:
    """Runs still going when dagster was stopped end as failures or stay queued: they are
    counted apart and left out of the means."""
    finished = [
        r for r in runs if r.ended is not None and r.started is not None and r.ended < stopped_at
    ]
    by_status = defaultdict(int)
    for run in finished:
        by_status[run.status.lower()] += 1
    interrupted = sum(r.started is not None and r not in finished for r in runs)
    never_started = sum(r.started is None for r in runs)
    statuses = ", ".join(f"{n} {status}" for status, n in sorted(by_status.items()))
    print(
        f"micro-batch runs launched: {len(runs)} ({statuses or 'none finished'}; "
        f"{interrupted} interrupted and {never_started} still queued when dagster stopped)"
    )
    if not finished:
        return
    durations = [r.ended - r.created for r in finished]
    print(
        f"run duration, created → finished: mean {statistics.mean(durations):.1f} s, "
        f"min {min(durations):.1f} s, max {max(durations):.1f} s"
    )
    to_mart = [r.mart_at - r.created for r in finished if r.mart_at is not None]
    if to_mart:
        print(f"run created → {MART} built: mean {statistics.mean(to_mart):.1f} s")
    starts = sorted(r.started for r in runs if r.started is not None)
    if len(starts) > 1:
        gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
        print(
            f"one run starts every {statistics.mean(gaps):.1f} s on average (one partition, "
            "so runs wait for each other)"
        )
    phases: dict[str, list[float]] = defaultdict(list)
    for run in finished:
        dequeued = run.dequeued or run.created
        phases["queued (created → dequeued, STARTING)"].append(dequeued - run.created)
        phases["launch (STARTING → run worker started)"].append(run.started - dequeued)
        grouped: dict[str, float] = defaultdict(float)
        for key, (start, end) in run.steps.items():
            label = _step_label(key)
            if label == "GX checks" and run.mart_at is not None:
                label += " before the mart" if end <= run.mart_at else " after the mart"
            grouped[label] += end - start
        for label, seconds in grouped.items():
            phases[f"step {label}"].append(seconds)
        phases["between steps (executor overhead)"].append(
            (run.ended - run.started) - sum(grouped.values())
        )
    print("where one run's time goes (mean over finished runs, seconds):")
    for label, values in phases.items():
        print(f"  {label:<52} {statistics.mean(values):6.1f}   (max {max(values):.1f})")
    gx_steps = [sum(_step_label(k) == "GX checks" for k in r.steps) for r in finished]
    print(f"  ({statistics.mean(gx_steps):.0f} GX check steps per run, each a step of its own)")


def _report_lag_phases(events: list[Event], runs: list[RunTimes]) -> None:
    """Split each lag by the run that put the event in the mart: the one whose
    fct_session_summaries materialization is nearest to when the poll saw it. Not the last
    one before: dagster-dbt logs the materialization after dbt has committed the table, so the
    poll can see the rows up to a second or so before the event exists."""
    built = [r for r in runs if r.mart_at is not None and r.started is not None]
    parts: dict[str, list[float]] = defaultdict(list)
    for event in events:
        if event.seen_at is None or not built:
            continue
        run = min(built, key=lambda r: abs(r.mart_at - event.seen_at))
        at = event.inserted_at
        dequeued = run.dequeued or run.created
        parts["waiting for a run to be created (sensor)"].append(max(0.0, run.created - at))
        parts["run queued (behind the previous one)"].append(
            max(0.0, dequeued - max(run.created, at))
        )
        parts["run launching"].append(max(0.0, run.started - max(dequeued, at)))
        parts["run steps until the mart was built"].append(run.mart_at - max(run.started, at))
        parts["mart logged as built → seen by the 0.5 s poll"].append(event.seen_at - run.mart_at)
    if not parts:
        return
    print("where an event's lag goes (mean seconds):")
    for label, values in parts.items():
        print(f"  {label:<52} {statistics.mean(values):6.1f}")


def _report_history(warehouse_url: str) -> None:
    with connect(warehouse_url) as conn:
        calls = conn.execute(
            "select count(*) from intermediate.int_agent_calls_unioned"
        ).fetchone()[0]
    print(f"on the kept warehouse: {calls:,} calls of history", flush=True)


def _build_baseline(urls: dict[str, str], args, work: Path) -> None:
    """A small collector, the roles, and one `everything` run in-process."""
    end = datetime.now(UTC)
    print(
        f"generating {args.baseline_events:,} collector events ending {end:%H:%M:%S} UTC ...",
        flush=True,
    )
    with connect(urls["ATW_COLLECTOR_URL"]) as conn:
        generate_collector(
            conn, GeneratorConfig(seed=17, events=args.baseline_events, days=7, end=end)
        )

    # As `make demo` does: dbt runs as atw_transformer, marts carry row-level security.
    from warehouse.roles import setup_roles

    with connect(urls["ATW_WAREHOUSE_URL"]) as conn:
        setup_roles(conn)

    from orchestration.lib.runs import run_job

    started = time.perf_counter()
    with _output_to(work / "baseline.log"):
        result = run_job("everything")
    if not result.success:
        raise RuntimeError(
            f"the baseline `everything` run failed; run with --keep and see {work / 'baseline.log'}"
        )
    print(
        f"baseline `everything` run (in-process): {time.perf_counter() - started:.1f} s",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=60, help="events to insert at most")
    parser.add_argument("--interval", type=float, default=3.0, help="seconds between inserts")
    parser.add_argument(
        "--duration", type=float, default=180.0, help="seconds to keep inserting at most"
    )
    parser.add_argument(
        "--drain",
        type=float,
        default=180.0,
        help="seconds to wait for the last events after the inserts stop",
    )
    parser.add_argument("--session-size", type=int, default=6, help="events per benchmark session")
    parser.add_argument("--baseline-events", type=int, default=3_000)
    parser.add_argument(
        "--server",
        choices=("daemon", "dev"),
        default="daemon",
        help="`dagster-daemon run` (default) or `dagster dev`",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the temp dir (databases stopped, dagster log and instance)",
    )
    parser.add_argument(
        "--history",
        type=Path,
        help="a folder `benchmarks/nightly.py --keep` left: measure on its built warehouse",
    )
    args = parser.parse_args()
    if args.history is not None:
        if not (args.history / "pgdata").is_dir():
            parser.error(f"{args.history} has no pgdata: not a folder nightly.py kept")
        args.keep = True

    # Other work on the machine slows every step: the report shows how busy it was.
    load_at_start = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    work = args.history or Path(tempfile.mkdtemp(prefix="atw-freshness-"))
    pgdata = work / "pgdata"
    dagster = None
    try:
        base_url = embedded_server.ensure_running(pgdata)
        urls = isolate_environment(work, base_url, pgdata)
        from orchestration.lib.instance import prepare_dagster_home, storage_kind

        prepare_dagster_home()
        if args.history is not None:
            _report_history(urls["ATW_WAREHOUSE_URL"])
        else:
            _build_baseline(urls, args, work)
        from dagster import DagsterInstance

        log_path = work / "dagster.log"
        dagster, label = _start_dagster(args.server, log_path)
        instance = DagsterInstance.get()
        waited = _wait_for_first_tick(instance, dagster, log_path, timeout=300)
        from orchestration.definitions import defs

        interval = defs.resolve_sensor_def("micro_batch").minimum_interval_seconds
        print(
            f"{label}: micro_batch sensor's first tick after {waited:.1f} s "
            f"(run storage: {storage_kind()}, sensor interval {interval} s)",
            flush=True,
        )

        prefix = f"fresh-{uuid.uuid4().hex[:6]}-"
        source = EventSource(urls["ATW_COLLECTOR_URL"], seed=23)
        poller = MartPoller(urls["ATW_WAREHOUSE_URL"], prefix)
        print(
            f"inserting one event every {args.interval:g} s on host {source.host.host_id} "
            f"(at most {args.events} events, {args.duration:.0f} s) ...",
            flush=True,
        )
        try:
            events = _measure(source, poller, prefix, args)
        finally:
            source.close()
            poller.close()
        _let_running_runs_finish(instance, timeout=args.drain)
        stopped_at = time.time()
        _stop_dagster(dagster)
        dagster = None
        runs = _run_times(instance)
        instance.dispose()

        with connect(urls["ATW_WAREHOUSE_URL"]) as conn:
            derived = conn.execute(
                sql.SQL(
                    "select count(*) from {} where session_key like %s and is_session_derived"
                ).format(sql.Identifier(*MART.split("."))),
                (f"collector:{prefix}%",),
            ).fetchone()[0]
        lags = [e.lag for e in events if e.lag is not None]
        missing = len(events) - len(lags)
        print()
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(
            f"machine: {os.cpu_count()} cores, {platform.system()} {platform.machine()}, "
            f"Python {platform.python_version()}; load average at the start "
            f"{load_at_start}, now {load} (1/5/15 min); noisy, compare within one run"
        )
        print(
            f"events inserted: {len(events)}, in the mart: {len(lags)}, never seen: {missing}"
            + (f", sessions derived (unexpected): {derived}" if derived else "")
        )
        if lags:
            print(
                f"lag, collector commit → {MART}: p50 {_percentile(lags, 0.5):.1f} s, "
                f"p95 {_percentile(lags, 0.95):.1f} s, max {max(lags):.1f} s, "
                f"min {min(lags):.1f} s"
            )
        _report_runs(runs, stopped_at)
        _report_lag_phases(events, runs)
        if poller.errors:
            print(f"mart polls that failed (table swapped in mid-read): {poller.errors}")
        if args.keep:
            (work / "freshness.json").write_text(
                json.dumps(
                    {"events": [asdict(e) for e in events], "runs": [asdict(r) for r in runs]},
                    indent=1,
                )
            )
        p95 = _percentile(lags, 0.95) if lags and not missing else float("inf")
        verdict = "PASS" if p95 < TARGET_SECONDS else "FAIL"
        print(f"{verdict}: p95 lag {p95:.1f} s against the {TARGET_SECONDS:.0f} s target")
        return 0
    finally:
        if dagster is not None:
            _stop_dagster(dagster)
        embedded_server.stop(pgdata)
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
