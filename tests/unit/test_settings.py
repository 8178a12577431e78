"""The one settings declaration: ATW_ names, documented aliases, call-time reads, masking, and
`atw config`."""

from __future__ import annotations

import subprocess
import sys

import dagster as dg
import pytest

from ingestion.core import settings
from orchestration.cli import main
from orchestration.lib.resources import TelemetryDatabases

ALIASES = {
    "ATW_WAREHOUSE_URL": "WAREHOUSE_URL",
    "ATW_COLLECTOR_URL": "COLLECTOR_URL",
    "ATW_LANDING_DIR": "LANDING_DIR",
    "ATW_CLAUDE_PROJECTS_DIR": "CLAUDE_PROJECTS_DIR",
    "ATW_EMBEDDED_PG_DIR": "EMBEDDED_PG_DIR",
    "ATW_TOKEN_ENCODING": "TOKEN_ENCODING",
    "ATW_MAX_MESSAGE_CHARS": "MAX_MESSAGE_CHARS",
    "ATW_MAX_LINE_BYTES": "MAX_LINE_BYTES",
    "ATW_TRANSCRIPT_BATCH_SIZE": "TRANSCRIPT_BATCH_SIZE",
}


def test_every_variable_is_atw_prefixed_and_documented():
    for variable in settings.VARIABLES:
        assert variable.name.startswith("ATW_")
        assert variable.help
    assert {v.name: v.aliases[0] for v in settings.VARIABLES if v.aliases} == ALIASES


@pytest.mark.parametrize(("name", "alias"), sorted(ALIASES.items()))
def test_the_atw_name_wins_over_its_alias_and_both_beat_the_default(monkeypatch, name, alias):
    for key in (name, alias):
        monkeypatch.delenv(key, raising=False)
    assert settings.found(name) == (settings._BY_NAME[name].default, "default")
    monkeypatch.setenv(alias, "from-alias")
    assert settings.found(name) == ("from-alias", alias)
    monkeypatch.setenv(name, "from-atw")
    assert settings.found(name) == ("from-atw", name)
    monkeypatch.setenv(name, "  ")  # empty counts as unset
    assert settings.found(name) == ("from-alias", alias)


def test_settings_are_read_when_asked_not_when_imported(monkeypatch, tmp_path):
    monkeypatch.setenv("ATW_LANDING_DIR", str(tmp_path / "first"))
    assert settings.landing_dir() == tmp_path / "first"
    monkeypatch.setenv("ATW_LANDING_DIR", str(tmp_path / "second"))
    assert settings.landing_dir() == tmp_path / "second"
    monkeypatch.delenv("ATW_LANDING_DIR")
    monkeypatch.delenv("LANDING_DIR", raising=False)
    assert settings.landing_dir() == settings.PROJECT_ROOT / "landing/"


def test_a_bad_number_names_the_variable_and_never_echoes_the_value(monkeypatch):
    monkeypatch.setenv("ATW_MAX_JSON_DEPTH", "s3cr3t-value")
    with pytest.raises(ValueError, match="ATW_MAX_JSON_DEPTH must be a whole number") as error:
        settings.integer("ATW_MAX_JSON_DEPTH")
    assert "s3cr3t" not in str(error.value)
    monkeypatch.setenv("ATW_RETENTION_DAYS", "3")
    with pytest.raises(ValueError, match="ATW_RETENTION_DAYS must be at least 35"):
        settings.integer("ATW_RETENTION_DAYS", 35)


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        (
            "ATW_WAREHOUSE_URL",
            "postgresql://atw:hunter2@db.example:5432/warehouse",
            "postgresql://atw:***@db.example:5432/warehouse",
        ),
        (
            "ATW_COLLECTOR_URL",
            "postgresql://reader@/collector?host=/tmp&password=hunter2",
            "postgresql://reader@/collector?host=/tmp&password=***",
        ),
        (
            "ATW_WEBHOOK_URL",
            "https://hooks.example.com/services/T000/B000/hunter2",
            "https://hooks.example.com/***",
        ),
        ("ATW_DAGSTER_PG_URL", "postgresql://dagster@/dagster", "postgresql://dagster@/dagster"),
        ("ATW_LANDING_DIR", "/data/landing", "/data/landing"),
    ],
)
def test_secrets_are_masked(name, value, shown):
    assert settings.mask(settings._BY_NAME[name], value) == shown


def test_atw_config_prints_every_setting_with_secrets_masked(monkeypatch, capsys):
    monkeypatch.setenv("WAREHOUSE_URL", "postgresql://atw:hunter2@db.example/warehouse")
    monkeypatch.delenv("ATW_WAREHOUSE_URL", raising=False)
    monkeypatch.setenv("ATW_WEBHOOK_URL", "https://hooks.example.com/hunter2")
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert "hunter2" not in out
    line = next(line for line in out.splitlines() if line.startswith("ATW_WAREHOUSE_URL "))
    assert line.split() == [
        "ATW_WAREHOUSE_URL",
        "postgresql://atw:***@db.example/warehouse",
        "[WAREHOUSE_URL]",
    ]
    for variable in settings.VARIABLES:
        assert variable.name in out
    assert main(["config", "--explain"]) == 0
    assert "where the HTML report goes" in capsys.readouterr().out


def test_importing_the_definitions_reads_no_setting_and_runs_no_subprocess():
    """Importing every module reads none of the project's variables, starts no process and
    leaves Great Expectations unimported."""
    names = sorted(
        {v.name for v in settings.VARIABLES} | {a for v in settings.VARIABLES for a in v.aliases}
    )
    probe = f"""
import os, subprocess, sys, traceback
names = set({names!r})
root = {str(settings.PROJECT_ROOT)!r}
read = []
original_get = os.environ.__class__.__getitem__
def getitem(self, key):
    # Only the project's own reads: a library copying the whole environment is not one.
    caller = next((frame for frame in reversed(traceback.extract_stack()[:-1])
                   if "/os.py" not in frame.filename and "_collections_abc" not in frame.filename),
                  None)
    if key in names and caller and caller.filename.startswith(root) \
            and "/.venv/" not in caller.filename:
        read.append(key)
    return original_get(self, key)
os.environ.__class__.__getitem__ = getitem
started = []
original_popen = subprocess.Popen.__init__
def popen(self, *args, **kwargs):
    started.append(args[0] if args else kwargs.get("args"))
    return original_popen(self, *args, **kwargs)
subprocess.Popen.__init__ = popen
import orchestration.definitions  # noqa
import orchestration.cli  # noqa
print("READ", sorted(set(read)))
print("STARTED", started)
print("GX", "great_expectations" in sys.modules)
"""
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=settings.PROJECT_ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "READ []" in result.stdout, result.stdout
    # (A library may ask `file` about the interpreter; the project itself starts nothing.)
    started = result.stdout.split("STARTED ", 1)[1]
    assert "dbt" not in started and "pg_ctl" not in started and "postgres" not in started
    # GX's import (seconds) waits for the first validation (expectations/gx_classes.py).
    assert "GX False" in result.stdout


def test_the_resource_takes_urls_from_envvar_or_falls_back_to_the_settings(monkeypatch):
    monkeypatch.setenv("MY_SECRET_WAREHOUSE", "postgresql://a@/w")
    monkeypatch.setenv("MY_SECRET_COLLECTOR", "postgresql://a@/c")

    @dg.asset
    def probe(databases: TelemetryDatabases) -> dg.MaterializeResult:
        urls = databases.urls()
        return dg.MaterializeResult(
            metadata={"warehouse": urls.warehouse, "collector": urls.collector}
        )

    result = dg.materialize(
        [probe],
        resources={
            "databases": TelemetryDatabases(
                warehouse_url=dg.EnvVar("MY_SECRET_WAREHOUSE"),
                collector_url=dg.EnvVar("MY_SECRET_COLLECTOR"),
            )
        },
    )
    metadata = result.asset_materializations_for_node("probe")[0].metadata
    assert metadata["warehouse"].value == "postgresql://a@/w"
    assert metadata["collector"].value == "postgresql://a@/c"
