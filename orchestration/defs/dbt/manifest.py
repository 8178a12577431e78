"""dbt's manifest, which the Dagster definitions read when they load: rebuilt only when stale;
and dbt commands run outside Dagster."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from ingestion.core import settings
from orchestration.defs.dbt import forkserver


def dbt_command(
    warehouse_url: str, dbt_args: list[str], target_path: str
) -> tuple[list[str], dict[str, str]]:
    """A dbt command line and its environment: the warehouse's connection and, once
    `atw roles` ran, its transformer role (a model built as another role would no longer be the
    pipeline's to rebuild). Its artefacts go to dbt_project/<target_path>."""
    from orchestration.defs.dbt.env import dbt_env

    project = str(settings.DBT_PROJECT_DIR)
    dbt = forkserver.real_dbt()
    command = [dbt, *dbt_args, "--project-dir", project, "--profiles-dir", project]
    # An environment variable, not `--target-path`: not every dbt command takes that flag
    # (`dbt debug` does not).
    return command, {**os.environ, **dbt_env(warehouse_url), "DBT_TARGET_PATH": target_path}


def run_dbt(
    warehouse_url: str, dbt_args: list[str], target_path: str, **run_options
) -> subprocess.CompletedProcess:
    """Run `dbt_command` through this process's warm dbt (forkserver.py), starting from and
    keeping dbt's partial-parse state for this warehouse and these vars (parse_state.py).
    `run_options` go to subprocess.run."""
    from orchestration.defs.dbt import parse_state

    command, env = dbt_command(warehouse_url, dbt_args, target_path)
    server = forkserver.environment()
    if server:
        command[0] = forkserver.executable()
        env.update(server)
    folder = settings.DBT_PROJECT_DIR / target_path
    key = parse_state.state_key(env, parse_state.cli_vars(dbt_args))
    parse_state.seed(folder, key)
    completed = subprocess.run(command, env=env, **run_options)
    if completed.returncode == 0:
        parse_state.keep(folder, key)
    return completed


def ensure_dbt_manifest(log: Path | None = None) -> None:
    """dagster-dbt loads models from target/manifest.json; (re)build it when it is missing or
    older than any file of the dbt project. Called by the commands before they load the
    definitions, never on import. `log`: a file for dbt's output (default: the console)."""
    manifest = settings.DBT_PROJECT_DIR / "target" / "manifest.json"
    sources = [
        p
        for folder in ("models", "macros", "tests", "seeds")
        for p in (settings.DBT_PROJECT_DIR / folder).rglob("*")
        if p.is_file()
    ]
    sources += [settings.DBT_PROJECT_DIR / "dbt_project.yml"]
    if manifest.exists() and manifest.stat().st_mtime >= max(p.stat().st_mtime for p in sources):
        return
    command = [
        forkserver.real_dbt(),
        "parse",
        "--quiet",
        "--project-dir",
        str(settings.DBT_PROJECT_DIR),
        "--profiles-dir",
        str(settings.DBT_PROJECT_DIR),
    ]
    if log is None:
        subprocess.run(command, check=True)
        return
    with open(log, "a", encoding="utf-8") as out:
        subprocess.run(command, check=True, stdout=out, stderr=subprocess.STDOUT)
