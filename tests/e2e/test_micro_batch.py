"""The micro-batch path: probes notice new collector rows and new or grown files, and the run
they ask for builds only what those sources feed, new events reaching the marts."""

from datetime import UTC, datetime, timedelta

from dagster import AssetKey, AssetMaterialization, DagsterInstance

from ingestion.core.connections import connect
from orchestration.definitions import defs
from orchestration.defs.automation import source_changes
from orchestration.defs.automation.sensors import (
    marts_due,
    micro_batch_plan,
    micro_batch_request,
    staging_views_missing,
)
from tests.conftest import insert_collector_events


def test_probes_see_new_rows_and_new_or_grown_files(small_collector, tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    landing.mkdir()
    monkeypatch.setenv("ATW_LANDING_DIR", str(landing))
    first = source_changes.probe(small_collector.collector)
    assert source_changes.changed(first, first) == []

    insert_collector_events(small_collector.collector, "probe-1", 1)
    (landing / "batch.json").write_text('{"events": []}')
    second = source_changes.probe(small_collector.collector)
    assert source_changes.changed(first, second) == [
        source_changes.COLLECTOR_EVENTS,
        source_changes.LANDING_FILES,
    ]

    with (landing / "batch.json").open("a") as grown:
        grown.write("\n")
    third = source_changes.probe(small_collector.collector)
    assert source_changes.changed(second, third) == [source_changes.LANDING_FILES]


def test_a_new_event_reaches_the_marts_through_only_what_it_affects(collector_clone, dbt_manifest):
    graph = defs.resolve_asset_graph()
    before = source_changes.probe(collector_clone.collector)
    now = datetime.now(UTC)
    assert micro_batch_request(None, before, graph, now) is None  # the first look records

    insert_collector_events(collector_clone.collector, "micro-batch-1", 2)
    request = micro_batch_request(
        before, source_changes.probe(collector_clone.collector), graph, now
    )
    selected = {key.to_user_string() for key in request.asset_selection}
    assert request.partition_key == now.strftime("%Y-%m-%d")
    assert {
        "raw/collector_events",
        "intermediate/int_agent_calls_unioned",
        "marts/fct_session_summaries",
        "marts/fct_alerts",
    } <= selected
    # Views over raw need no rebuild; other sources' assets are not touched.
    assert not selected & {
        "raw/landed_collector_events",
        "raw/claude_code_lines",
        "staging/stg_collector__telemetry_events",
        "intermediate/int_claude_code_responses_priced",
    }
    checks = {(key.asset_key.to_user_string(), key.name) for key in request.asset_check_keys}
    assert {
        ("raw/collector_events", "gx_raw_collector_events"),
        ("intermediate/int_agent_calls_unioned", "gx_int_agent_calls_unioned"),
    } <= checks
    assert not any(asset.startswith("staging/") for asset, _ in checks)
    quiet = micro_batch_request(
        before, source_changes.probe(collector_clone.collector), graph, now, with_monitoring=False
    )
    quiet_selected = {k.to_user_string() for k in quiet.asset_selection}
    assert not quiet_selected & {
        "marts/fct_alerts",
        "intermediate/int_anomalies",
        "marts/fct_anomalies",
        "marts/fct_anomalies_daily",
    }
    # Off the path to the sessions and daily tokens, what changed waits for the marts'
    # refresh: the sources still load, and what the live marts read is still built.
    live = micro_batch_request(
        before,
        source_changes.probe(collector_clone.collector),
        graph,
        now,
        with_monitoring=False,
        marts_are_due=lambda keys: False,
    )
    live_selected = {k.to_user_string() for k in live.asset_selection}
    assert {
        "raw/collector_events",
        "intermediate/int_agent_calls_unioned",
        "intermediate/int_sessions_aggregated",
        "marts/fct_session_summaries",
        "marts/fct_daily_token_trends",
    } <= live_selected
    assert not live_selected & {
        "marts/fct_tool_sequences",
        "marts/fct_sessions_daily",
        "marts/dim_tools",
        "reports/telemetry_report",
    }
    assert {"marts/fct_tool_sequences", "reports/telemetry_report"} <= quiet_selected
    # The dimensions the sessions' blocking checks look hosts and models up in are built too.
    assert {"marts/dim_hosts", "marts/dim_models"} <= live_selected
    # Retention and downsampling are the nightly run's.
    assert not selected & {"ops/retention", "ops/downsample"}
    # Unless a staging view is gone (an upgrade that partitions raw drops the views reading
    # it): then the run builds the views downstream of the changed source as well.
    assert not staging_views_missing(collector_clone.warehouse, graph)
    with connect(collector_clone.warehouse) as conn:
        conn.execute("drop view staging.stg_collector__telemetry_events cascade")
    assert staging_views_missing(collector_clone.warehouse, graph)
    rebuilding = micro_batch_request(
        before,
        source_changes.probe(collector_clone.collector),
        graph,
        now,
        staging_missing=True,
    )
    assert "staging/stg_collector__telemetry_events" in {
        k.to_user_string() for k in rebuilding.asset_selection
    }
    result = defs.resolve_job_def("micro_batch").execute_in_process(
        instance=DagsterInstance.ephemeral(),
        partition_key=rebuilding.partition_key,
        asset_selection=list(rebuilding.asset_selection),
        tags=rebuilding.tags,
    )
    assert result.success
    materialized = {
        e.asset_key for e in result.all_events if e.event_type_value == "ASSET_MATERIALIZATION"
    }
    assert AssetKey(["raw", "collector_events"]) in materialized

    with connect(collector_clone.warehouse) as conn:
        sessions = conn.execute(
            """
            select s.session_key, s.call_count
            from marts.fct_session_summaries as s
            where s.session_key in (
                select source_system || ':' || session_id
                from intermediate.int_agent_calls_unioned
                where source_session_id = 'micro-batch-1')
            """
        ).fetchall()
    # Its own session, or the derived one of its host and directory (docs/architecture.md).
    assert len(sessions) == 1 and sessions[0][1] >= 2

    # A micro-batch that leaves the other marts for later, with events of a host never seen
    # before: its blocking checks look the host up in dim_hosts, built in the same run.
    before = source_changes.probe(collector_clone.collector)
    insert_collector_events(collector_clone.collector, "micro-batch-2", 2)
    with connect(collector_clone.collector) as conn:
        conn.execute(
            "update telemetry_events set host_id = 'host-never-seen' "
            "where session_id = 'micro-batch-2'"
        )
    live, waiting = micro_batch_plan(
        before,
        source_changes.probe(collector_clone.collector),
        graph,
        datetime.now(UTC),
        with_monitoring=False,
        marts_are_due=lambda keys: False,
    )
    assert AssetKey(["marts", "fct_tool_sequences"]) in waiting
    job = defs.resolve_job_def("micro_batch").get_subset(
        asset_selection=set(live.asset_selection),
        asset_check_selection=set(live.asset_check_keys),
    )
    result = job.execute_in_process(
        instance=DagsterInstance.ephemeral(), partition_key=live.partition_key, tags=live.tags
    )
    assert result.success
    with connect(collector_clone.warehouse) as conn:
        assert (
            conn.execute(
                "select count(*) from marts.fct_session_summaries where host_id = 'host-never-seen'"
            ).fetchone()[0]
            == 1
        )


def test_every_probe_asks_for_a_run_dagster_can_execute(dbt_manifest):
    """A loader that writes two tables is one step: a request names both or neither."""
    job = defs.resolve_job_def("micro_batch")
    graph = defs.resolve_asset_graph()
    empty = {
        key: (
            {}
            if key
            in (source_changes.LANDING_FILES, source_changes.CLAUDE_CODE, source_changes.AGENT_CLI)
            else None
        )
        for key in (
            source_changes.COLLECTOR_EVENTS,
            source_changes.COLLECTOR_TRANSCRIPTS,
            source_changes.LANDING_FILES,
            source_changes.CLAUDE_CODE,
            source_changes.AGENT_CLI,
        )
    }
    changes = {
        source_changes.COLLECTOR_EVENTS: 1,
        source_changes.COLLECTOR_TRANSCRIPTS: "t",
        source_changes.LANDING_FILES: {"a.json": [1, 1]},
        source_changes.CLAUDE_CODE: {"s.jsonl": [1, 1]},
        source_changes.AGENT_CLI: {"rollout.jsonl": [1, 1]},
    }
    for key, value in changes.items():
        request = micro_batch_request(empty, {**empty, key: value}, graph, datetime.now(UTC))
        job.get_subset(
            asset_selection=set(request.asset_selection),
            asset_check_selection=set(request.asset_check_keys),
        )


def test_the_marts_off_the_live_path_are_due_once_their_interval_has_passed(monkeypatch):
    instance = DagsterInstance.ephemeral()
    keys = {AssetKey(["marts", "fct_tool_sequences"]), AssetKey(["marts", "dim_tools"])}
    now = datetime.now(UTC)
    monkeypatch.setenv("ATW_MARTS_REFRESH_SECONDS", "300")
    assert marts_due(instance, now, keys)  # never built
    for key in keys:
        instance.report_runless_asset_event(AssetMaterialization(key))
    assert not marts_due(instance, datetime.now(UTC), keys)
    assert marts_due(instance, datetime.now(UTC) + timedelta(seconds=301), keys)
    # One of them built long ago (or never) is enough: they are rebuilt together.
    assert marts_due(instance, datetime.now(UTC), keys | {AssetKey(["marts", "dim_hosts"])})
    monkeypatch.setenv("ATW_MARTS_REFRESH_SECONDS", "0")
    assert marts_due(instance, datetime.now(UTC), keys)


def test_what_a_micro_batch_defers_joins_a_later_one(dbt_manifest):
    """The marts left out wait in the sensor's cursor: a later look runs them once due, with
    new data or without, and a request that leaves them out can run."""
    graph = defs.resolve_asset_graph()
    job = defs.resolve_job_def("micro_batch")
    empty = {source_changes.COLLECTOR_EVENTS: 1}
    grown = {source_changes.COLLECTOR_EVENTS: 2}
    now = datetime.now(UTC)
    request, waiting = micro_batch_plan(
        empty, grown, graph, now, with_monitoring=False, marts_are_due=lambda keys: False
    )
    job.get_subset(
        asset_selection=set(request.asset_selection),
        asset_check_selection=set(request.asset_check_keys),
    )
    selected = set(request.asset_selection)
    assert AssetKey(["marts", "fct_tool_sequences"]) in waiting
    assert AssetKey(["marts", "fct_alerts"]) in waiting  # monitoring not due either
    assert not waiting & selected
    assert all(check.asset_key in selected for check in request.asset_check_keys)

    # Nothing new, not yet due: still waiting.
    assert micro_batch_plan(
        grown,
        grown,
        graph,
        now,
        marts_are_due=lambda keys: False,
        with_monitoring=False,
        pending=frozenset(waiting),
    ) == (None, waiting)
    # Nothing new, due: a run of what waited (and no source), nothing left waiting.
    later, left = micro_batch_plan(grown, grown, graph, now, pending=frozenset(waiting))
    assert set(later.asset_selection) == waiting and left == set()
    assert not any(key.path[0] == "raw" for key in later.asset_selection)
    job.get_subset(
        asset_selection=set(later.asset_selection),
        asset_check_selection=set(later.asset_check_keys),
    )
