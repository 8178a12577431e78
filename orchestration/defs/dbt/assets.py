"""dbt models as Dagster assets, one multi-asset per layer.

The layers are separate steps so that a blocking GX check on a staging model stops the
intermediate and mart models of the same run: dbt runs a whole selection in one process, and
Dagster can only hold back what has not started yet. The calls fact is a step of its own
because it is the one daily-partitioned model.
"""

import json
import os
import shutil
from contextlib import contextmanager
from graphlib import TopologicalSorter

import dagster as dg
import yaml
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets

from expectations import windows
from ingestion.core import watermarks
from ingestion.core.connections import connect
from ingestion.core.raw_schema import ensure_raw_schema
from ingestion.core.settings import DBT_PROJECT_DIR
from orchestration.defs.dbt import forkserver, parse_state, step_inputs, test_window
from orchestration.defs.dbt.env import dbt_env
from orchestration.defs.dbt.translator import WarehouseDbtTranslator
from orchestration.defs.dbt.vars import deployment_vars
from orchestration.lib import validation_scope
from orchestration.lib.partitions import (
    CHANGED_ONLY,
    DAILY,
    REBUILD_TAG,
    SINGLE_RUN,
    partition_env,
    rebuild_window,
)
from orchestration.lib.resources import TelemetryDatabases

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# The manifest is built by `make install` and refreshed by the `atw` commands before they load
# these definitions (`ensure_dbt_manifest`), never here: importing runs no subprocess. Not
# `prepare_if_dev` either: under `dagster dev` it re-parses in every run worker.
if not dbt_project.manifest_path.exists():
    raise FileNotFoundError(
        f"dbt's manifest is missing ({dbt_project.manifest_path}): run "
        "`make install` or `.venv/bin/atw dbt parse`"
    )

TRANSLATOR = WarehouseDbtTranslator()
UNIQUE_ID = "dagster_dbt/unique_id"


@contextmanager
def _environment(variables: dict[str, str]):
    """`variables` set for the dbt processes started inside (dagster-dbt hands them the
    process's environment), as they were afterwards."""
    before = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _skippable(context: dg.AssetExecutionContext, window: tuple | None) -> bool:
    """A routine run's build of the step's whole selection, with no days forced and no full
    validation (whose dbt tests must read every row)."""
    return (
        context.run.tags.get(REBUILD_TAG) == CHANGED_ONLY[REBUILD_TAG]
        and not context.is_subset
        and window is None
        and not validation_scope.is_full(context)
    )


def _unique_ids(context: dg.AssetExecutionContext) -> set[str]:
    specs = context.assets_def.specs_by_key
    return {
        specs[key].metadata[UNIQUE_ID]
        for key in context.selected_asset_keys
        if UNIQUE_ID in specs[key].metadata
    }


# The dbt steps in the order a run builds them: each step's fingerprint holds the records of
# those before it.
STEP_ORDER = ("dbt_staging", "dbt_calls", "dbt_marts", "dbt_monitoring")


def _dbt_horizon(conn, merged_vars: dict):
    """The write horizon the incremental models take (macros/incremental_days.sql)."""
    hours = merged_vars.get("incremental_loaded_at_margin_hours")
    if hours is None:
        project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())
        hours = project["vars"]["incremental_loaded_at_margin_hours"]
    return watermarks.write_horizon(conn, hours)


def _in_dependency_order(context: dg.AssetExecutionContext) -> list[dg.AssetKey]:
    """The selected assets, each after those of the step it reads (Dagster requires it)."""
    specs = context.assets_def.specs_by_key
    selected = context.selected_asset_keys
    graph = {
        key: {dep.asset_key for dep in specs[key].deps if dep.asset_key in selected}
        for key in sorted(selected, key=lambda k: k.to_user_string())
    }
    return list(TopologicalSorter(graph).static_order())


def _build(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    databases: TelemetryDatabases,
    window: tuple | None = None,
    test_variables: dict[str, str] | None = None,
):
    """`test_variables`: the windowed tests' days (test_window.py). A routine run whose step
    has nothing new to read records its assets unchanged without starting dbt
    (step_inputs.py)."""
    url = databases.urls().warehouse
    connection = dbt_env(url)
    variables = {**connection, **(test_variables or {})}
    # `buildable`: a test runs in the step that builds all of its parents, so a cross-layer
    # singular test waits for the marts step instead of failing in the staging one.
    # Unit tests check the SQL, not the data: they run in `make test`
    # (tests/e2e/test_dbt_unit_tests.py), not in every run, as dbt's docs advise for production.
    args = ["build", "--indirect-selection", "buildable", "--exclude-resource-type", "unit_test"]
    # ATW_DBT_VARS (a JSON object) overrides dbt_project.yml's vars, thresholds say, for the
    # runs of this deployment. The run's partitions go in the environment (partition_env).
    merged = deployment_vars()
    if merged:
        args += ["--vars", json.dumps(merged)]
    step = context.op_def.name
    unique_ids = _unique_ids(context)
    sources = step_inputs.upstream_sources(unique_ids)
    identity = {
        **{name: value for name, value in connection.items() if name != "ATW_PG_PASSWORD"},
        "vars": merged,
        "args": args,
        "nodes": sorted(unique_ids),
    }
    with connect(url) as conn:
        # The record is part of the raw schema: a warehouse set up before it gets it here.
        if conn.execute("select to_regclass('ops.dbt_step_builds')").fetchone()[0] is None:
            ensure_raw_schema(conn)
        # The older of the checks' horizon and dbt's own: a load open longer than the one
        # margin and not the other would otherwise be older than the recorded horizon.
        horizon = min(windows.horizon(conn), _dbt_horizon(conn, merged))
        fingerprint = step_inputs.fingerprint(
            conn,
            identity,
            sources,
            step_inputs.upstream_models(unique_ids),
            STEP_ORDER[: STEP_ORDER.index(step)] if step in STEP_ORDER else (),
        )
        unchanged, reason = False, "runs: not a routine build of its whole selection"
        if _skippable(context, window):
            unchanged, reason = step_inputs.unchanged_reason(
                conn, step, sources, step_inputs.relations(unique_ids), fingerprint
            )
        if not unchanged:
            # Until this build completes, the next one may not skip.
            step_inputs.forget(conn, step)
    context.log.info(f"{step}: {reason}")
    if unchanged:
        for key in _in_dependency_order(context):
            yield dg.MaterializeResult(asset_key=key, metadata={"dbt": reason})
        return
    key = parse_state.state_key(variables, merged)
    folder = parse_state.invocation_folder(f"{step}-{context.run_id[:7]}", key)
    with _environment({**variables, **partition_env(window), **forkserver.environment()}):
        invocation = dbt.cli(args, context=context, target_path=folder)
        yield from invocation.stream()
    parse_state.keep(folder, key)
    # Each invocation has a target folder of its own (megabytes); micro-batches would pile
    # them up. A failed one keeps its folder for its logs.
    shutil.rmtree(folder, ignore_errors=True)
    if not context.is_subset and window is None:
        with connect(url) as conn:
            step_inputs.record(conn, step, horizon, fingerprint)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    # The Claude Code and agent CLI pricing comes this early because the calls fact reads it.
    select="staging resource_type:seed int_claude_code_responses_priced "
    "int_claude_code_session_responses_priced int_claude_code_responses_sequenced "
    "int_agent_cli_usage_priced",
    name="dbt_staging",
    dagster_dbt_translator=TRANSLATOR,
    project=dbt_project,
)
def dbt_staging_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, databases: TelemetryDatabases
):
    url = databases.urls().warehouse
    with test_window.test_days(
        url, validation_scope.is_full(context), whole_selection=not context.is_subset
    ) as test_variables:
        yield from _build(context, dbt, databases, test_variables=test_variables)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    select="int_agent_calls_unioned",
    name="dbt_calls",
    dagster_dbt_translator=TRANSLATOR,
    project=dbt_project,
    partitions_def=DAILY,
    backfill_policy=SINGLE_RUN,
)
def dbt_calls_model(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, databases: TelemetryDatabases
):
    """The incremental calls fact: the days that changed since its last build, and the run's
    partitions unless it is a routine run (`rebuild_window`). Its key tests read the rows
    rebuilt since they last passed."""
    url = databases.urls().warehouse
    with test_window.test_days(
        url,
        validation_scope.is_full(context),
        test_window.CALLS_WATERMARK,
        whole_selection=not context.is_subset,
    ) as test_variables:
        yield from _build(
            context, dbt, databases, rebuild_window(context), test_variables=test_variables
        )


@dbt_assets(
    manifest=dbt_project.manifest_path,
    # The intermediate models after the calls fact build with the marts: one dbt process
    # less per run (a second of work, four of start-up), their dbt tests still gating the marts.
    select="int_calls_daily int_tool_calls int_tool_sequences_daily int_sessions_aggregated "
    "int_sessions_scored int_usage_blocks int_agent_usage_daily int_host_usage_daily "
    "int_host_versions_daily int_tool_usage_daily int_agent_days marts",
    exclude="marts.monitoring",
    name="dbt_marts",
    dagster_dbt_translator=TRANSLATOR,
    project=dbt_project,
)
def dbt_mart_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, databases: TelemetryDatabases
):
    url = databases.urls().warehouse
    with test_window.test_days(
        url,
        validation_scope.is_full(context),
        test_window.MART_WATERMARK,
        with_fact=True,
        whole_selection=not context.is_subset,
    ) as test_variables:
        yield from _build(context, dbt, databases, test_variables=test_variables)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    select="int_anomalies marts.monitoring",
    name="dbt_monitoring",
    dagster_dbt_translator=TRANSLATOR,
    project=dbt_project,
)
def dbt_monitoring_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, databases: TelemetryDatabases
):
    """Anomalies, alerts and recommendations: they read the other marts, so a failed mart
    check holds them back."""
    yield from _build(context, dbt, databases)


DBT_ASSETS = [dbt_staging_models, dbt_calls_model, dbt_mart_models, dbt_monitoring_models]


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project, dbt_executable=forkserver.executable())
