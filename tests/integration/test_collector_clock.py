"""A collector whose clients' clocks lag: rows committed late below the watermark and the cost
worker's rewrites of rows dated days ago arrive on the next plain run; a pull that misses them
fails the blocking reconciliation check at the latest in the first run a week on (the whole
comparison, ATW_RECONCILE_ALL_HOURS), and keeps failing until the rows arrive."""

from datetime import UTC, datetime, timedelta

import dagster as dg
from dagster import DagsterInstance

from ingestion.collector import events as collector_events
from ingestion.core.connections import connect
from orchestration.definitions import ASSET_CHECKS, ASSETS, defs
from orchestration.lib.partitions import DAILY
from orchestration.lib.runs import QUIET, partition_tags, today

COLLECTOR = dg.AssetKey(["raw", "collector_events"])


def _pull_job():
    """The collector's asset and its checks, as `atw run` runs them, and nothing else."""
    job = dg.define_asset_job(
        "pull_collector", selection=dg.AssetSelection.assets(COLLECTOR), partitions_def=DAILY
    )
    return dg.Definitions(
        assets=ASSETS, asset_checks=ASSET_CHECKS, jobs=[job], resources=defs.resources
    ).resolve_job_def("pull_collector")


def _run(job, start=None, tags=None):
    """A plain run (today's partition), or a backfill from `start` to today."""
    result = job.execute_in_process(
        instance=DagsterInstance.ephemeral(),
        raise_on_error=False,
        run_config=QUIET,
        tags={**partition_tags(start or today(), today()), **(tags or {})},
    )
    checks = {}
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            checks[evaluation.check_name] = evaluation
    return result, checks


def _late_rows_and_rewrites(url: str, first_id: int, count: int, rewrites: int) -> int:
    """Rows committed late with ids below the watermark, stamped by a clock three days
    behind, and the cost worker's rewrite of rows dated days ago. Returns the rewritten sum."""
    with connect(url) as conn:
        conn.execute(
            """
            insert into telemetry_events (id, host_id, session_id, event_type, agent_name,
                hook_name, mode, execution_type, decision, tool_name, working_dir, latency_ms,
                created_at, prompt_tokens, completion_tokens, cost)
            select i, 'laggy-laptop', 'late-session', 'agent_execution', 'claude-code',
                'PostToolUse', 'direct', 'llm', 'SUCCESS', 'Bash', '/home/dev/x', 40,
                now() - interval '3 days' - i * interval '1 second', 100, 20, 0.001
            from generate_series(%s::bigint, %s::bigint) as i
            """,
            (first_id, first_id + count - 1),
        )
        conn.execute(
            """
            update telemetry_events set cost = coalesce(cost, 0) + 0.01,
                completion_tokens = coalesce(completion_tokens, 0) + 7
            where id in (select id from telemetry_events where created_at < now() - interval
                         '2 days' and host_id <> 'laggy-laptop' order by id limit %s)
            """,
            (rewrites,),
        )
        return conn.execute("select sum(cost) from telemetry_events").fetchone()[0]


def _a_week_passes(url: str) -> None:
    """The latest whole comparison of the collector becomes eight days old."""
    with connect(url) as conn:
        conn.execute(
            "update raw.whole_reconciliations set reconciled_at = reconciled_at - "
            "interval '8 days' where source = %s",
            (collector_events.SOURCE,),
        )


def _compared_days(url: str) -> dict[str, int]:
    """How many days each run compared with the collector."""
    with connect(url) as conn:
        return dict(
            conn.execute(
                "select run_id, count(*) from raw.reconciliation where source = %s group by run_id",
                (collector_events.SOURCE,),
            ).fetchall()
        )


def _warehouse_cost(url: str):
    with connect(url) as conn:
        return conn.execute("select sum(cost) from raw.collector_events").fetchone()[0]


def test_late_commits_and_rewrites_arrive_and_a_miss_fails_the_run(small_collector, monkeypatch):
    urls = small_collector
    with connect(urls.collector) as conn:
        top = conn.execute("select max(id) from telemetry_events").fetchone()[0]
        # Ids top+1 .. top+200 are taken by transactions that commit later.
        conn.execute("select setval('telemetry_events_id_seq', %s)", (top + 200,))
        conn.execute(
            "insert into telemetry_events (host_id, session_id, event_type, "
            "agent_name, hook_name, mode, execution_type, decision, tool_name, "
            "working_dir, latency_ms) values ('h', 's', 'commit', 'a', 'x', 'direct', "
            "'llm', 'SUCCESS', 'Bash', '/w', 1)"
        )
    job = _pull_job()
    result, checks = _run(job)
    assert result.success and checks["reconciliation"].passed

    expected_cost = _late_rows_and_rewrites(urls.collector, top + 1, 16, 98)
    result, checks = _run(job)
    assert result.success and checks["reconciliation"].passed
    assert _warehouse_cost(urls.warehouse) == expected_cost
    with connect(urls.warehouse) as conn:
        late = conn.execute(
            "select count(*) from raw.collector_events where host_id = 'laggy-laptop'"
        ).fetchone()[0]
    assert late == 16

    # The first version's overlap chose rows by created_at, which saw none of these: as if
    # nothing below the watermark could change any more.
    with monkeypatch.context() as reverted:
        reverted.setattr(
            collector_events,
            "overlap_floor",
            lambda warehouse, late: (
                collector_events.watermarks.read(warehouse, collector_events.SOURCE).high_id
            ),
        )
        expected_cost = _late_rows_and_rewrites(urls.collector, top + 17, 16, 98)
        # A run compares the days it read: these rows it did not read.
        result, checks = _run(job)
        assert checks["reconciliation"].passed
        # The first run a week after the last whole comparison compares every day.
        _a_week_passes(urls.warehouse)
        result, checks = _run(job)
        assert not checks["reconciliation"].passed
        metadata = checks["reconciliation"].metadata
        assert metadata["missing_rows"].value == 16
        day = (datetime.now(UTC) - timedelta(days=3)).date().isoformat()
        shown = [metadata[k].value for k in metadata if k.startswith("out_of_balance_")]
        assert any(p["scope"] == day and p["missing_rows"] > 0 for p in shown)
        assert any(
            p["missing_rows"] == 0 and p["source_cost"] != p["warehouse_cost"] for p in shown
        ), "a day with rewrites only: sums differ"
        assert metadata["to_fix"].value.startswith("atw backfill ")
        # Never green again while the rows are missing: a pull reads what changed since the
        # one before, and these did not change again.
        result, checks = _run(job)
        assert not checks["reconciliation"].passed

    # ... and green once the days are read again, as the check says to.
    first = min(p["scope"] for p in shown)
    result, checks = _run(job, start=datetime.fromisoformat(first).date())
    assert result.success and checks["reconciliation"].passed
    assert _warehouse_cost(urls.warehouse) == expected_cost


def test_the_overlap_floor_is_the_mark_of_a_pull_26_hours_before_the_last(urls):
    from ingestion.core.raw_schema import ensure_raw_schema

    now = datetime.now(UTC)
    with connect(urls.warehouse) as conn:
        ensure_raw_schema(conn)
        assert collector_events.overlap_floor(conn, timedelta(hours=26)) == 0
        conn.execute(
            "insert into raw.collector_pulls (run_id, pulled_at, high_id) values "
            "('a', %s, 100), ('b', %s, 200), ('c', %s, 300), ('d', %s, 400)",
            (
                now - timedelta(hours=60),
                now - timedelta(hours=30),
                now - timedelta(hours=20),
                now - timedelta(hours=1),
            ),
        )
        # The last pull was an hour ago: rows inserted before 27 h ago can no longer change.
        assert collector_events.overlap_floor(conn, timedelta(hours=26)) == 200
        collector_events._record_pull(conn, "e", now, 500)
        remaining = [
            r for (r,) in conn.execute("select run_id from raw.collector_pulls order by pulled_at")
        ]
    # Pulls older than the next floor's are forgotten: "b" (30 h ago) is the next floor.
    assert remaining == ["b", "c", "d", "e"]


def test_a_run_compares_every_day_weekly_when_asked_or_always(small_collector, monkeypatch):
    """The days a plain run compares: every day in the first run, then the days it read, every
    day again once the latest whole comparison is older than ATW_RECONCILE_ALL_HOURS, in a run
    tagged `atw/reconcile: all` (`atw run --reconcile-all`), and in every run with 0 hours."""
    from orchestration.lib.source_assets import RECONCILE_ALL, RECONCILE_TAG

    urls = small_collector
    with connect(urls.collector) as conn:
        every_day = conn.execute(
            "select count(distinct (created_at at time zone 'UTC')::date) from telemetry_events"
        ).fetchone()[0]
    job = _pull_job()

    def compared(result) -> tuple[bool, int]:
        """Whether the run compared every day (it stamped the whole comparison), and how many."""
        with connect(urls.warehouse) as conn:
            (whole,) = conn.execute(
                "select count(*) = 1 from raw.whole_reconciliations where run_id = %s",
                (result.run_id,),
            ).fetchone()
        return whole, _compared_days(urls.warehouse).get(result.run_id, 0)

    result, checks = _run(job)
    assert checks["reconciliation"].passed and compared(result) == (True, every_day)
    with connect(urls.collector) as conn:
        (new_day,) = conn.execute(
            "insert into telemetry_events (host_id, session_id, event_type, agent_name, "
            "hook_name, mode, execution_type, decision, tool_name, working_dir, latency_ms, "
            "created_at) values ('h', 's', 'commit', 'a', 'x', 'direct', 'llm', 'SUCCESS', "
            "'Bash', '/w', 1, now()) returning (created_at at time zone 'UTC')::date"
        ).fetchone()
    result, checks = _run(job)
    # The days it read: the new row's and today's (the run's partition, read again). A pull
    # re-reads more when a transaction anywhere in the cluster (another test's) was open at the
    # previous snapshot; so this counts at least those, and tells it from a whole comparison.
    whole, days = compared(result)
    assert checks["reconciliation"].passed and not whole and days >= len({new_day, today()})
    result, checks = _run(job, tags={RECONCILE_TAG: RECONCILE_ALL})
    assert compared(result) == (True, every_day + 1)
    assert not compared(_run(job)[0])[0]
    _a_week_passes(urls.warehouse)
    assert compared(_run(job)[0]) == (True, every_day + 1)
    assert not compared(_run(job)[0])[0]
    monkeypatch.setenv("ATW_RECONCILE_ALL_HOURS", "0")
    assert compared(_run(job)[0]) == (True, every_day + 1)


def test_a_whole_comparison_is_due_while_any_of_the_sources_is_not_recent(urls, monkeypatch):
    """The landing drops are two sources read by one asset: it compares both whole until each
    has been, within ATW_RECONCILE_ALL_HOURS."""
    from ingestion.core import reconciliation
    from ingestion.core.raw_schema import ensure_raw_schema

    monkeypatch.setenv("ATW_RECONCILE_ALL_HOURS", "168")
    with connect(urls.warehouse) as conn:
        ensure_raw_schema(conn)
        conn.commit()
        both = ("landing.collector_batches", "landing.metric_events")
        assert reconciliation.whole_due(conn, both)
        reconciliation._record_whole(conn, "r1", both[:1])
        conn.commit()
        assert reconciliation.whole_due(conn, both)
        assert not reconciliation.whole_due(conn, both[:1])
        reconciliation._record_whole(conn, "r2", both[1:])
        conn.commit()
        assert not reconciliation.whole_due(conn, both)
        conn.execute(
            "update raw.whole_reconciliations set reconciled_at = now() - interval '169 hours' "
            "where source = %s",
            (both[0],),
        )
        conn.commit()
        assert reconciliation.whole_due(conn, both)
