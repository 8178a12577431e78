"""dbt models as Dagster assets, one multi-asset per layer.

The layers are separate steps so that a blocking GX check on a staging model stops the
intermediate and mart models of the same run: dbt runs a whole selection in one process, and
Dagster can only hold back what has not started yet.
"""


import shutil
import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets

from ingestion.dbt_env import export_dbt_env
from ingestion.settings import DBT_PROJECT_DIR
from orchestration.resources import TelemetryDatabases
from orchestration.translator import WarehouseDbtTranslator

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# Under `dagster dev` the manifest is rebuilt from the working tree; elsewhere it must exist
# already (`make install` and the CLI run `dbt parse`).
dbt_project.prepare_if_dev()

TRANSLATOR = WarehouseDbtTranslator()


def _build(context: dg.AssetExecutionContext, dbt: DbtCliResource,
           databases: TelemetryDatabases):
    export_dbt_env(databases.urls().warehouse)
    # `buildable`: a test runs in the step that builds all of its parents, so a cross-layer
    # singular test waits for the marts step instead of failing in the staging one.
    yield from dbt.cli(["build", "--indirect-selection", "buildable"], context=context).stream()


@dbt_assets(
    manifest=dbt_project.manifest_path,
    select="staging",
    name="dbt_staging",
    dagster_dbt_translator=TRANSLATOR,
    project=dbt_project,
)
def dbt_staging_models(context: dg.AssetExecutionContext, dbt: DbtCliResource,
                       databases: TelemetryDatabases):
    yield from _build(context, dbt, databases)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    select="intermediate marts resource_type:seed",
    name="dbt_marts",
    dagster_dbt_translator=TRANSLATOR,
    project=dbt_project,
)
def dbt_mart_models(context: dg.AssetExecutionContext, dbt: DbtCliResource,
                    databases: TelemetryDatabases):
    yield from _build(context, dbt, databases)


def dbt_executable() -> str:
    """The dbt installed beside this Python: `.venv/bin` need not be on PATH."""
    for candidate in (Path(sys.executable).with_name("dbt"), Path(sys.prefix) / "bin" / "dbt"):
        if candidate.exists():
            return str(candidate)
    return shutil.which("dbt") or "dbt"


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())
