"""The Dagster definitions load; the job, the schedule and every check resolve."""

from dagster import AssetKey

from expectations.suites import SUITES
from orchestration.definitions import defs


def test_job_and_schedule_resolve(dbt_manifest):
    job = defs.resolve_job_def("everything")
    assert job.name == "everything"
    schedule = defs.resolve_schedule_def("nightly")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "UTC"
    assert schedule.job_name == "everything"


def test_every_stage_is_an_asset_and_every_suite_a_blocking_check(dbt_manifest):
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    for expected in ("raw/collector_events", "raw/collector_transcript_messages",
                     "staging/stg_collector__telemetry_events",
                     "intermediate/int_agent_calls_unioned", "marts/fct_session_summaries",
                     "marts/fct_daily_token_trends", "marts/fct_activity_heatmap",
                     "marts/fct_agent_monthly_usage"):
        assert expected in keys
    checks = {(key.asset_key.to_user_string(), key.name): graph.get_check_spec(key)
              for key in graph.asset_check_keys}
    for suite in SUITES:
        spec = checks[(AssetKey(suite.asset_key_path).to_user_string(), f"gx_{suite.name}")]
        assert spec.blocking
    # dbt tests surface as checks too.
    assert ("marts/fct_session_summaries", "unique_fct_session_summaries_session_key") in checks


def test_dbt_sources_are_the_ingestion_assets(dbt_manifest):
    graph = defs.resolve_asset_graph()
    staging = graph.get(AssetKey(["staging", "stg_collector__telemetry_events"]))
    assert AssetKey(["raw", "collector_events"]) in staging.parent_keys
