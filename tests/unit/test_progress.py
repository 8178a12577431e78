"""The quiet command line: one line per stage of a run, whatever order Dagster runs steps in."""

from __future__ import annotations

import io
from types import SimpleNamespace

from rich.console import Console

from orchestration.lib import progress
from orchestration.lib.progress import StepProgress, stage_of


def test_each_dbt_step_and_the_checks_on_its_models_are_one_stage():
    assert stage_of("raw__collector_events") == "sources"
    assert stage_of("landing_files_asset") == "sources"
    assert stage_of("raw__collector_events_gx_raw_collector_events") == "sources"
    assert (
        stage_of("dbt_staging")
        == stage_of("reference__model_prices_gx_model_prices")
        == stage_of("staging__stg_collector__telemetry_events_gx_x")
        == "staging models"
    )
    assert (
        stage_of("dbt_calls")
        == stage_of("intermediate__int_agent_calls_unioned_gx_x")
        == "calls fact"
    )
    assert (
        stage_of("dbt_marts")
        == stage_of("intermediate__int_sessions_scored_gx_x")
        == stage_of("marts__fct_daily_token_trends_gx_x")
        == "marts"
    )
    assert (
        stage_of("dbt_monitoring")
        == stage_of("marts__fct_alerts_gx_x")
        == stage_of("intermediate__int_anomalies_gx_x")
        == "monitoring marts"
    )


def _event(kind: str, step: str):
    return SimpleNamespace(event_type_value=kind, step_key=step)


def test_a_stage_prints_one_line_when_the_next_begins_and_counts_failures():
    out = io.StringIO()
    progress = StepProgress(Console(file=out, width=100, color_system=None))
    for step, outcome in [
        ("raw__collector_events", "STEP_SUCCESS"),
        ("raw__collector_events_gx_raw_collector_events", "STEP_SUCCESS"),
        ("dbt_staging", "STEP_SUCCESS"),
        ("reference__model_prices_gx_model_prices", "STEP_FAILURE"),
    ]:
        progress.event(_event("STEP_START", step))
        progress.event(_event(outcome, step))
    progress.finish()
    lines = out.getvalue().splitlines()
    assert [line.split()[:3] for line in lines] == [
        ["sources", "2", "steps"],
        ["staging", "models", "2"],
    ]
    assert lines[0].endswith("ok") and lines[1].endswith("1 failed")


def test_a_long_step_line_is_not_wrapped_when_stdout_is_no_terminal(tmp_path, monkeypatch, capsys):
    """Rich wraps at 80 columns when it cannot ask a terminal its width; a log read later or
    a CI page should get each line whole."""
    monkeypatch.setenv("ATW_LOG_DIR", str(tmp_path))
    message = "generating a realistic sample (" + "x" * 120 + ")"
    with progress.session("test") as output:
        output.step(message)
    assert capsys.readouterr().out == f"> {message}\n"
