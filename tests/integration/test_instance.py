"""Dagster instance storage: SQLite under DAGSTER_HOME by default, or its own PostgreSQL
database; either way the run queue keeps two runs off the same partition."""

import dagster as dg
import pytest
from dagster import DagsterInstance

from ingestion.core.connections import connect
from orchestration.lib.instance import MARKER, prepare_dagster_home
from warehouse import embedded_server


@dg.op
def _hello() -> int:
    return 1


@dg.job
def _tiny():
    _hello()


def _writer_limit(instance) -> list:
    limits = instance.run_coordinator.get_run_queue_config().tag_concurrency_limits
    return [limit for limit in limits if limit["key"] == "atw/writes"]


def test_default_is_sqlite_under_dagster_home(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.delenv("ATW_DAGSTER_STORAGE", raising=False)
    prepare_dagster_home()
    with DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "SqliteRunStorage"
        assert instance.run_coordinator.dequeue_interval_seconds == 1
        assert _writer_limit(instance) == [{"key": "atw/writes", "value": "warehouse", "limit": 1}]
        assert _tiny.execute_in_process(instance=instance).success
    assert (tmp_path / "storage").is_dir()


def test_postgres_storage_in_its_own_database(pg_base_url, urls, tmp_path, monkeypatch):
    dagster_db = embedded_server.ensure_database(pg_base_url, f"dagster_{tmp_path.name[-8:]}")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.setenv("ATW_DAGSTER_STORAGE", "postgres")
    monkeypatch.setenv("ATW_DAGSTER_PG_URL", dagster_db)
    prepare_dagster_home()
    with DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        result = _tiny.execute_in_process(instance=instance)
    with connect(dagster_db) as conn:
        assert (
            conn.execute(
                "select count(*) from runs where run_id = %s", (result.run_id,)
            ).fetchone()[0]
            == 1
        )
    with connect(urls.warehouse) as conn:
        assert conn.execute("select to_regclass('public.runs')").fetchone()[0] is None


def test_a_hand_written_dagster_yaml_is_left_alone(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    prepare_dagster_home()
    assert not (tmp_path / "dagster.yaml").read_text().startswith(MARKER)


def test_unknown_storage_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.setenv("ATW_DAGSTER_STORAGE", "mongodb")
    with pytest.raises(SystemExit, match="sqlite or postgres"):
        prepare_dagster_home()
