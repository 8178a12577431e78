"""A broken row fails its blocking GX check; downstream assets of that run do not materialize."""

from dagster import DagsterInstance

from ingestion.connections import connect
from orchestration.cli import run_pipeline
from tests.conftest import table_checksum


def _materialized(result) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.all_events
            if e.event_type_value == "ASSET_MATERIALIZATION"}


def _check(result, name):
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if evaluation.check_name == name:
                return evaluation
    raise AssertionError(f"check {name} did not run")


def test_broken_raw_row_blocks_staging_and_marts(small_collector, dbt_manifest):
    instance = DagsterInstance.ephemeral()
    first = run_pipeline(instance)
    assert first.success
    assert "marts/fct_session_summaries" in _materialized(first)
    marts_before = table_checksum(small_collector.warehouse, "marts.fct_session_summaries",
                                  "t.session_key")

    with connect(small_collector.warehouse) as conn:
        conn.execute(
            """
            insert into raw.collector_events (source_id, host_id, session_id, event_type,
                agent_name, hook_name, decision, latency_ms, created_at, _run_id)
            select source_id + 1000000000, host_id, session_id, 'not_an_event_type',
                agent_name, hook_name, decision, -250, created_at, 'saboteur'
            from raw.collector_events order by source_id limit 1
            """
        )

    second = run_pipeline(instance)
    evaluation = _check(second, "gx_raw_collector_events")
    assert not evaluation.passed
    metadata = evaluation.metadata
    failed = {metadata[k].value for k in metadata if k.endswith("_expectation")}
    assert failed == {"expect_column_values_to_be_in_set", "expect_column_values_to_be_between"}
    keys = [metadata[k].value for k in metadata if k.endswith("_failing_keys")]
    assert all(k and k[0]["source_id"].startswith("100") for k in keys)

    materialized = _materialized(second)
    assert "raw/collector_events" in materialized
    assert not any(key.startswith(("staging/", "intermediate/", "marts/"))
                   for key in materialized)
    assert table_checksum(small_collector.warehouse, "marts.fct_session_summaries",
                          "t.session_key") == marts_before
