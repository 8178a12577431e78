"""A routine run whose dbt step has nothing new to read does not start dbt for it
(orchestration/defs/dbt/step_inputs.py): the marts stay as they were, and the next write to a
source it reads makes the step build again."""

from dagster import DagsterEventType, DagsterInstance

from ingestion.core.connections import connect
from orchestration.definitions import defs
from orchestration.defs.dbt import step_inputs
from orchestration.lib.runs import run_job
from tests.conftest import insert_collector_events, mart_checksums

SKIPPABLE = ("dbt_staging", "dbt_calls", "dbt_marts")


def _run() -> tuple[dict[str, set[str]], dict[str, str]]:
    """Runs `everything`: per dbt step, what its materializations said ('built' when dbt ran),
    and the line it logged on why it ran or not."""
    instance = DagsterInstance.ephemeral()
    result = run_job("everything", instance=instance)
    assert result.success
    said: dict[str, set[str]] = {}
    for event in result.all_events:
        if event.event_type != DagsterEventType.ASSET_MATERIALIZATION:
            continue
        if not event.step_key.startswith("dbt_"):
            continue
        note = event.event_specific_data.materialization.metadata.get("dbt")
        said.setdefault(event.step_key, set()).add(note.value if note else "built")
    why = {
        entry.step_key: entry.user_message
        for entry in instance.all_logs(result.run_id)
        if entry.step_key in SKIPPABLE and entry.user_message.startswith(f"{entry.step_key}: ")
    }
    return said, why


def _calls(url: str) -> int:
    with connect(url) as conn:
        (count,) = conn.execute(
            "select count(*) from intermediate.int_agent_calls_unioned"
        ).fetchone()
    return count


def test_a_step_with_nothing_new_is_not_run_until_a_source_changes(secured_clone):
    url = secured_clone.warehouse
    # The copy is another database (another connection, so another fingerprint): it builds.
    first, _ = _run()
    assert all(first[step] == {"built"} for step in (*SKIPPABLE, "dbt_monitoring"))
    marts = mart_checksums(url)
    calls = _calls(url)

    second, why = _run()
    for step in SKIPPABLE:
        (note,) = second[step]
        assert note.startswith("not run: nothing it reads was written since"), (step, why)
    # The monitoring marts read the checks' results, which every run writes.
    assert second["dbt_monitoring"] == {"built"}
    assert mart_checksums(url) == marts
    assert _calls(url) == calls

    # Two new events at the collector: the steps build again, and the calls reach the fact.
    insert_collector_events(secured_clone.collector, "unchanged-steps", 2)
    third, _ = _run()
    assert all(third[step] == {"built"} for step in SKIPPABLE)
    assert _calls(url) == calls + 2

    # A delete alone (no row stamped): one of them edited at the collector so that it breaks
    # the record contract; the run's re-read of today quarantines it and deletes it from raw,
    # which only raw.changed_days records.
    with connect(secured_clone.collector) as conn:
        conn.execute(
            "update telemetry_events set extra_data = jsonb_set(coalesce(extra_data, '{}'), "
            "'{inputChars}', '-1') where generation_id = 'unchanged-steps-0'"
        )
    fourth, why = _run()
    assert all(fourth[step] == {"built"} for step in SKIPPABLE), why
    assert _calls(url) == calls + 1


def test_every_source_of_a_skippable_step_has_a_rule(dbt_manifest):
    """A source without one would keep its step from ever skipping."""
    for step in SKIPPABLE:
        assets = next(a for a in defs.assets if getattr(a, "op", None) and a.op.name == step)
        ids = {spec.metadata["dagster_dbt/unique_id"] for spec in assets.specs}
        sources = step_inputs.upstream_sources(ids)
        assert sources, step
        assert sources <= set(step_inputs.WRITTEN_SINCE) | set(step_inputs.READ_VALUES), step
