"""Retries on source reads, and run-failure notifications to a real local webhook server
(alert notifications are tested with the marts, in test_marts.py)."""

from datetime import UTC, datetime

import dagster as dg
import pytest
from dagster import DagsterInstance

from orchestration.definitions import defs
from orchestration.defs.automation.sensors import run_failure_sensor
from orchestration.lib.runs import partition_tags


def _run_collector_asset(instance):
    job = defs.resolve_job_def("everything")
    today = datetime.now(UTC).date()
    return job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        tags=partition_tags(today, today),
        asset_selection=[dg.AssetKey(["raw", "collector_events"])],
    )


def _events(result, kind):
    return [e for e in result.all_events if e.event_type_value == kind]


def test_bad_credentials_fail_at_once_and_are_notified(urls, monkeypatch, webhook, dbt_manifest):
    base, _, query = urls.collector.partition("@")
    monkeypatch.setenv("ATW_COLLECTOR_URL", f"postgresql://no_such_role@{query}")
    instance = DagsterInstance.ephemeral()
    result = _run_collector_asset(instance)
    assert not result.success
    assert _events(result, "STEP_UP_FOR_RETRY") == []
    failure_data = _events(result, "STEP_FAILURE")[0].event_specific_data
    assert "Not retried" in failure_data.user_failure_data.description

    failure = _events(result, "PIPELINE_FAILURE") or _events(result, "RUN_FAILURE")
    context = dg.build_run_status_sensor_context(
        sensor_name="notify_run_failure",
        dagster_event=failure[0],
        dagster_instance=instance,
        dagster_run=instance.get_run_by_id(result.run_id),
    ).for_run_failure()
    run_failure_sensor(context)
    assert len(webhook) == 1
    assert webhook[0]["event"] == "run_failure"
    assert webhook[0]["run_id"] == result.run_id
    assert webhook[0]["failed_steps"] == ["raw__collector_events"]

    monkeypatch.delenv("ATW_WEBHOOK_URL")
    assert isinstance(run_failure_sensor(context), dg.SkipReason)
    assert len(webhook) == 1


# e2e: it waits out the real backoff (2 + 4 + 8 seconds), too long for `make test-fast`.
@pytest.mark.e2e
def test_an_unreachable_collector_is_retried_with_backoff(urls, monkeypatch, tmp_path):
    monkeypatch.setenv("ATW_COLLECTOR_URL", f"postgresql://postgres@/collector?host={tmp_path}")
    result = _run_collector_asset(DagsterInstance.ephemeral())
    assert not result.success
    assert len(_events(result, "STEP_UP_FOR_RETRY")) == 3
