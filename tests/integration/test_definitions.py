"""The Dagster definitions load; jobs, schedule, sensors, partitions and every check resolve."""

from datetime import UTC, datetime

from dagster import AssetKey, DailyPartitionsDefinition, build_schedule_context

from expectations.suites import SUITES
from orchestration.definitions import defs, nightly_schedule


def test_jobs_schedule_and_sensors_resolve(dbt_manifest):
    for name in ("everything", "backfill", "micro_batch"):
        job = defs.resolve_job_def(name)
        assert isinstance(job.partitions_def, DailyPartitionsDefinition)
        assert job.tags["atw/writes"] == "warehouse"  # one writer at a time in the run queue
    # Routine runs rebuild what changed; a backfill rebuilds its range whatever changed.
    assert defs.resolve_job_def("everything").tags["atw/rebuild"] == "changed"
    assert defs.resolve_job_def("micro_batch").tags["atw/rebuild"] == "changed"
    assert "atw/rebuild" not in defs.resolve_job_def("backfill").tags
    assert "atw/rebuild" not in defs.resolve_implicit_global_asset_job_def().tags
    # Every job, and what the UI materializes (the implicit asset job), runs in one process.
    names = ("everything", "backfill", "micro_batch", "full_validation")
    jobs = [defs.resolve_job_def(name) for name in names]
    jobs.append(defs.resolve_implicit_global_asset_job_def())
    assert {job.executor_def.name for job in jobs} == {"in_process"}
    # Weekly, every check over every row and nothing built.
    full = defs.resolve_job_def("full_validation")
    assert full.tags == {"atw/writes": "warehouse", "atw/validation": "full"}
    assert full.asset_layer.selected_asset_keys == set()
    assert full.asset_layer.asset_graph.asset_check_keys == (
        defs.resolve_asset_graph().asset_check_keys
    )
    weekly = defs.resolve_schedule_def("weekly_full_validation")
    assert (weekly.cron_schedule, weekly.execution_timezone) == ("0 4 * * 0", "UTC")
    assert weekly.job_name == "full_validation"
    schedule = defs.resolve_schedule_def("nightly")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "UTC"
    assert schedule.job_name == "everything"
    # At 02:00 the run is for the day that just ended, not for today's partition.
    context = build_schedule_context(
        scheduled_execution_time=datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    )
    request = nightly_schedule(context)
    assert request.partition_key == "2026-11-22"
    sensors = {s.name for s in defs.sensors}
    assert sensors == {"micro_batch", "notify_run_failure", "notify_new_alerts"}


def test_time_based_assets_are_daily_partitions_in_utc(dbt_manifest):
    graph = defs.resolve_asset_graph()
    for key in (["raw", "collector_events"], ["intermediate", "int_agent_calls_unioned"]):
        partitions = graph.get(AssetKey(key)).partitions_def
        assert partitions.timezone == "UTC" and partitions.cron_schedule == "0 0 * * *"
        assert graph.get(AssetKey(key)).backfill_policy.max_partitions_per_run is None
    # The marts aggregate all days, so they are not partitioned.
    assert graph.get(AssetKey(["marts", "fct_session_summaries"])).partitions_def is None


def test_every_stage_is_an_asset_and_every_suite_a_blocking_check(dbt_manifest):
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    for expected in (
        "raw/collector_events",
        "raw/collector_transcript_messages",
        "staging/stg_collector__telemetry_events",
        "intermediate/int_agent_calls_unioned",
        "marts/fct_session_summaries",
        "marts/fct_daily_token_trends",
        "marts/fct_activity_heatmap",
        "marts/fct_agent_monthly_usage",
    ):
        assert expected in keys
    checks = {
        (key.asset_key.to_user_string(), key.name): graph.get_check_spec(key)
        for key in graph.asset_check_keys
    }
    stages = set()
    for suite in SUITES:
        asset = AssetKey(suite.asset_key_path).to_user_string()
        assert checks[(asset, f"gx_{suite.name}")].blocking
        warning = checks.get((asset, f"gx_{suite.name}_warnings"))
        assert (warning is not None) == bool(suite.warnings())
        assert warning is None or not warning.blocking
        stages.add(suite.stage)
    assert stages == {"raw", "reference", "staging", "intermediate", "marts"}
    # dbt tests surface as checks too.
    assert ("marts/fct_session_summaries", "unique_fct_session_summaries_session_key") in checks


def test_dbt_sources_are_the_ingestion_assets(dbt_manifest):
    graph = defs.resolve_asset_graph()
    staging = graph.get(AssetKey(["staging", "stg_collector__telemetry_events"]))
    assert AssetKey(["raw", "collector_events"]) in staging.parent_keys
