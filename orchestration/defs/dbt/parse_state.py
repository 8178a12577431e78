"""dbt's partial-parse state, kept between the dbt steps of a run and between runs.

Every dbt invocation from Dagster writes to a target folder of its own, and dbt parses the whole
project again unless that folder holds a `partial_parse.msgpack` written for the same
connection (host, port, user, database, role) and the same `--vars`. dagster-dbt seeds the
folder from `target/`, which `dbt parse` wrote for the default profile, so each step of each run
parsed from scratch (about six seconds on two cores, four times a run). Here the state is kept
per connection and vars, written back after each invocation, so only the first invocation with
new ones parses in full; dbt still checks every file's checksum and re-parses what changed.
The dbt assets use it, and so do the dbt commands run outside Dagster (`manifest.run_dbt`:
`atw dbt ...`, the tests).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import uuid
from pathlib import Path

from ingestion.core.settings import DBT_PROJECT_DIR

FILE_NAME = "partial_parse.msgpack"
# What dbt compares before it trusts the state: the connection (its profile hash) and vars.
PROFILE_VARIABLES = ("ATW_PG_HOST", "ATW_PG_PORT", "ATW_PG_USER", "ATW_PG_DBNAME", "ATW_DBT_ROLE")
# States are about a megabyte each: keep the most recently used few.
KEPT = 12


def states_folder() -> Path:
    return DBT_PROJECT_DIR / "target" / "parse-states"


def state_key(dbt_env: dict[str, str], dbt_vars: dict) -> str:
    identity = {
        "profile": {name: dbt_env.get(name, "") for name in PROFILE_VARIABLES},
        "vars": dbt_vars,
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:20]


def invocation_folder(name: str, key: str) -> Path:
    """A fresh target folder for one invocation, holding the kept state for `key` if any."""
    folder = DBT_PROJECT_DIR / "target" / f"{name}-{uuid.uuid4().hex[:12]}"
    seed(folder, key)
    return folder


def seed(folder: Path, key: str) -> None:
    """Put the kept state for `key`, if any, where dbt will look for it in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    kept = states_folder() / f"{key}.msgpack"
    try:
        (folder / FILE_NAME).write_bytes(kept.read_bytes())
        os.utime(kept)  # most recently used
    except FileNotFoundError:
        pass


def cli_vars(dbt_args: list[str]) -> dict | str:
    """The `--vars` of a dbt command line, as the key sees them."""
    for index, argument in enumerate(dbt_args[:-1]):
        if argument == "--vars":
            try:
                return json.loads(dbt_args[index + 1])
            except ValueError:
                return dbt_args[index + 1]
    return {}


def keep(folder: Path, key: str) -> None:
    """Keep the state an invocation left in `folder` for the next one with the same key. The
    file is replaced atomically: runs in other processes may read it at the same time."""
    written = folder / FILE_NAME
    if not written.exists():
        return
    states = states_folder()
    states.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=states, suffix=".partial")
    with os.fdopen(handle, "wb") as out:
        out.write(written.read_bytes())
    os.replace(temporary, states / f"{key}.msgpack")
    _prune(states)


def _prune(states: Path) -> None:
    kept = sorted(states.glob("*.msgpack"), key=_modified, reverse=True)
    for old in kept[KEPT:]:
        old.unlink(missing_ok=True)


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0
