"""Daily partitions: a backfill re-reads its days from the collector and rebuilds them, from
the CLI as from Dagster; running it twice changes nothing; two at once do not collide."""

import subprocess
import threading
from datetime import UTC, date, datetime

from dagster import AssetKey, DagsterInstance
from psycopg import sql

from ingestion.core.connections import connect
from orchestration.cli import main
from orchestration.defs.dbt.manifest import dbt_command
from tests.conftest import content_checksums

DAY = date(2026, 11, 10)
CALLS = sql.Identifier("intermediate", "int_agent_calls_unioned")


def _calls(url) -> dict:
    """Per day: calls, tokens and an md5 over the rows (without when they were rebuilt)."""
    with connect(url) as conn:
        return {
            row[0]: row[1:]
            for row in conn.execute(
                sql.SQL(
                    """select call_date, count(*), sum(total_tokens),
                md5(string_agg(call_id || coalesce(total_tokens::text, ''), ',' order by call_id))
            from {} group by 1"""
                ).format(CALLS)
            ).fetchall()
        }


def _rebuilt_days(url, after) -> set:
    with connect(url) as conn:
        return {
            r[0]
            for r in conn.execute(
                sql.SQL("select distinct call_date from {} where rebuilt_at > %s").format(CALLS),
                (after,),
            )
        }


def test_backfill_rereads_lost_days_and_is_idempotent(
    collector_clone, dbt_manifest, tmp_path, monkeypatch
):
    urls = collector_clone
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    # No margin for late loads: rows loaded minutes ago must not make every day look new.
    monkeypatch.setenv("ATW_DBT_VARS", '{"incremental_loaded_at_margin_hours": 0}')
    raw_before, calls_before = content_checksums(urls.warehouse), _calls(urls.warehouse)
    with connect(urls.warehouse) as conn:
        lost = conn.execute(
            "delete from raw.collector_events where created_at >= %s and created_at < %s + 1",
            (DAY, DAY),
        ).rowcount
        started = conn.execute("select now()").fetchone()[0]
    assert lost > 0

    assert main(["backfill", str(DAY), str(DAY)]) == 0
    assert content_checksums(urls.warehouse) == raw_before
    assert _calls(urls.warehouse) == calls_before
    # The day asked for was rebuilt; days outside the range and the lookback were not.
    rebuilt = _rebuilt_days(urls.warehouse, started)
    assert DAY in rebuilt and date(2026, 11, 8) not in rebuilt

    with DagsterInstance.get() as instance:
        runs = instance.get_runs()
        assert runs[0].tags["dagster/asset_partition_range_start"] == str(DAY)
        materialized = instance.get_materialized_partitions(
            AssetKey(["intermediate", "int_agent_calls_unioned"])
        )
        assert str(DAY) in materialized

    # Again over a range: nothing changes, and the loader only finds duplicates; the range's
    # days are rebuilt all the same (the run's window reaches dbt).
    with connect(urls.warehouse) as conn:
        again = conn.execute("select now()").fetchone()[0]
    assert main(["backfill", "2026-11-08", "2026-11-12"]) == 0
    assert content_checksums(urls.warehouse) == raw_before
    assert _calls(urls.warehouse) == calls_before
    assert {date(2026, 11, day) for day in range(8, 13)} <= _rebuilt_days(urls.warehouse, again)
    with connect(urls.warehouse) as conn:
        inserted, updated, skipped = conn.execute(
            "select rows_inserted, rows_updated, rows_skipped_duplicate from raw.load_log "
            "where source = 'collector.telemetry_events' order by finished_at desc limit 1"
        ).fetchone()
    assert (inserted, updated) == (0, 0) and skipped > 0


def test_two_builds_of_the_same_days_at_once_do_not_duplicate_calls(collector_clone, dbt_manifest):
    urls = collector_clone
    before = _calls(urls.warehouse)
    vars_ = '{"partition_start": "2026-11-01", "partition_end": "2026-11-19"}'

    def build(command: list[str], env: dict, results: list) -> None:
        results.append(subprocess.run(command, env=env, capture_output=True, text=True).returncode)

    results: list = []
    threads = [
        threading.Thread(
            target=build,
            args=(
                *dbt_command(
                    urls.warehouse,
                    ["run", "--quiet", "--select", "int_agent_calls_unioned", "--vars", vars_],
                    f"target/concurrent-{n}",
                ),
                results,
            ),
        )
        for n in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [0, 0]
    assert _calls(urls.warehouse) == before
    with connect(urls.warehouse) as conn:
        assert (
            conn.execute(
                sql.SQL("select count(*) - count(distinct call_id) from {}").format(CALLS)
            ).fetchone()[0]
            == 0
        )


def test_a_backfill_outside_the_partitions_fails_with_one_line_naming_the_setting(capsys):
    """Before the first partition (ATW_PARTITIONS_START until it became a constant: no record
    may be dated earlier), or after today: no Dagster traceback, one line."""
    assert main(["backfill", "2019-03-01", "2019-03-02"]) == 2
    assert main(["backfill", "2999-01-01"]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert errors == [
        "atw backfill: 2019-03-01 is before the first daily partition, 2020-01-01: no record "
        "may be dated earlier (ATW_TIMESTAMP_FLOOR), so there is nothing to backfill there",
        f"atw backfill: 2999-01-01 is after today ({datetime.now(UTC).date()}, UTC): there is "
        "nothing to backfill there yet",
    ]
