"""Monthly partitions of the raw event tables: rows go to their UTC month's partition, a key
stays on one row when its time moves, retention drops whole months, and a table made by an
older release is moved into partitions with its rows as they were."""

import json
import os
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg.types.json import Jsonb

from expectations.runner import run_suite
from expectations.suites import SUITES
from ingestion.collector.events import pull_events
from ingestion.core import partitions
from ingestion.core.connections import connect
from ingestion.core.raw_schema import ensure_raw_schema
from ingestion.file_drops.loader import load_landing_dir
from tests.conftest import SAMPLE_END
from warehouse import retention
from warehouse.roles import setup_roles


def _month(months_back: int) -> date:
    """The first day of the UTC month `months_back` months before this one."""
    first = datetime.now(UTC).date().replace(day=1)
    for _ in range(months_back):
        first = (first - timedelta(days=1)).replace(day=1)
    return first


def _at(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def _batch_event(n: int, at: datetime) -> dict:
    return {
        "hostId": "laptop",
        "sessionId": f"s{n}",
        "eventType": "hook_decision",
        "agentName": "tool-approve",
        "decision": "APPROVE",
        "latencyMs": 10 + n,
        "timestamp": at.isoformat().replace("+00:00", "Z"),
    }


def _metric(event_id: str, at: datetime) -> str:
    return json.dumps(
        {
            "metric": "task_success",
            "timestamp": int(at.timestamp() * 1000),
            "value": {"eventId": event_id, "agentId": "bot"},
        }
    )


def _where(conn, table: str) -> dict[str, int]:
    """Rows per partition of `table`."""
    return dict(
        conn.execute(
            f"select tableoid::regclass::text, count(*) from {table} group by 1"  # noqa: S608
        ).fetchall()
    )


def _land(urls, times: list[datetime], metric_files: dict[str, list[tuple[str, datetime]]]):
    landing = Path(os.environ["ATW_LANDING_DIR"])
    events = [_batch_event(n, at) for n, at in enumerate(times)]
    (landing / "batch.json").write_text(json.dumps({"events": events}))
    for name, lines in metric_files.items():
        (landing / name).write_text("".join(_metric(i, at) + "\n" for i, at in lines))
    with connect(urls.warehouse) as warehouse:
        return load_landing_dir(warehouse, "landed")


def test_rows_go_to_their_months_and_an_event_id_stays_on_one_row(urls):
    old, middle, last = _at(_month(3) + timedelta(days=9)), _at(_month(2)), _at(_month(1))
    counts = _land(
        urls,
        [old, middle, last, last + timedelta(minutes=1)],
        # e1 again in another file, at another time (another month): the first line wins.
        {"a.ndjson": [("e1", old), ("e2", middle)], "b.ndjson": [("e1", last)]},
    )
    metrics = counts["landing.metric_events"]
    assert (metrics.rows_read, metrics.rows_loaded, metrics.rows_skipped_duplicate) == (3, 2, 1)
    with connect(urls.warehouse) as conn:
        batch = _where(conn, "raw.landed_collector_events")
        assert batch == {
            f"raw.landed_collector_events_p{_month(3):%Y_%m}": 1,
            f"raw.landed_collector_events_p{_month(2):%Y_%m}": 1,
            f"raw.landed_collector_events_p{_month(1):%Y_%m}": 2,
        }
        assert conn.execute(
            "select event_id, occurred_at from raw.landed_metric_events order by event_id"
        ).fetchall() == [("e1", old), ("e2", middle)]
        for table in partitions.PARTITIONED:
            assert conn.execute(f"select count(*) from {table}_default").fetchone()[0] == 0  # noqa: S608
        # A file's months are made before its rows are written: b.ndjson's too, though its
        # only line was a duplicate.
        names = [n for n, _, _ in partitions.month_partitions(conn, "raw.landed_metric_events")]
        assert names == [f"raw.landed_metric_events_p{_month(m):%Y_%m}" for m in (3, 2, 1)]


def test_rows_of_a_month_without_a_partition_move_out_of_the_default(urls):
    with connect(urls.warehouse) as conn:
        ensure_raw_schema(conn)
        with conn.transaction():
            conn.execute("select set_config('atw.run_id', 'direct', true)")
            conn.execute(
                "insert into raw.collector_events (source_id, created_at, host_id) "
                "values (1, %s, 'h'), (2, %s, 'h')",
                (_at(_month(4)), _at(_month(2))),
            )
        assert set(_where(conn, "raw.collector_events")) == {"raw.collector_events_default"}
        loaded_at = conn.execute("select _loaded_at from raw.collector_events").fetchall()
        with conn.transaction():
            assert partitions.add_months(conn, "raw.collector_events") == 2
        assert _where(conn, "raw.collector_events") == {
            f"raw.collector_events_p{_month(4):%Y_%m}": 1,
            f"raw.collector_events_p{_month(2):%Y_%m}": 1,
        }
        # Moved as they were: a move is no change for the incremental models.
        assert conn.execute("select _loaded_at from raw.collector_events").fetchall() == loaded_at
        assert conn.execute("select count(*) from raw.changed_days").fetchone()[0] == 0
        # A hostile range makes no partition: the contract quarantines such rows.
        with conn.transaction():
            partitions.add_months(
                conn,
                "raw.collector_events",
                [datetime(1900, 1, 1, tzinfo=UTC), date(9999, 12, 1), None],
            )
        assert len(partitions.month_partitions(conn, "raw.collector_events")) == 2


def test_a_collector_row_whose_time_moves_stays_one_row(small_collector):
    with connect(small_collector.collector) as source, connect(small_collector.warehouse) as wh:
        pull_events(source, wh, "first", now=SAMPLE_END)
        source_id, created_at = source.execute(
            "select id, created_at from telemetry_events order by id limit 1"
        ).fetchone()
        moved_to = created_at - timedelta(days=40)
        source.execute(
            "update telemetry_events set created_at = %s where id = %s", (moved_to, source_id)
        )
        source.commit()
        counts = pull_events(source, wh, "second", now=SAMPLE_END)
        assert counts.rows_updated >= 1
        assert wh.execute(
            "select created_at from raw.collector_events where source_id = %s", (source_id,)
        ).fetchall() == [(moved_to,)]
        # The day it left is logged, so the incremental models rebuild it.
        assert (created_at.astimezone(UTC).date(),) in wh.execute(
            "select day from raw.changed_days where table_name = 'collector_events'"
        ).fetchall()
        assert (
            wh.execute(
                "select count(*) from raw.collector_events group by source_id "
                "order by 1 desc limit 1"
            ).fetchone()[0]
            == 1
        )


@pytest.mark.parametrize("locked", [False, True])
def test_retention_drops_whole_months_and_deletes_what_is_left(urls, monkeypatch, locked):
    cutoff_day = _month(2) + timedelta(days=14)
    times = [_at(_month(3)), _at(_month(3), 13), _at(_month(2) + timedelta(days=9))]
    kept = [_at(_month(2) + timedelta(days=19)), _at(_month(1))]
    _land(
        urls,
        times + kept,
        {"m.ndjson": [(f"m{n}", at) for n, at in enumerate(times + kept)]},
    )
    monkeypatch.setattr(retention, "DROP_LOCK_TIMEOUT", "200ms")
    with connect(urls.warehouse) as conn, connect(urls.warehouse) as reader:
        if locked:
            # A long query on the table: the month cannot be dropped, its rows are deleted.
            reader.execute("select count(*) from raw.landed_metric_events")
        days = (datetime.now(UTC).date() - cutoff_day).days
        cuts = {
            cut.table: cut.rows
            for cut in retention.purge(conn, "purge", now=datetime.now(UTC), days=days)
        }
        reader.rollback()
        assert cuts["raw.landed_collector_events"] == cuts["raw.landed_metric_events"] == 3
        for table in ("raw.landed_collector_events", "raw.landed_metric_events"):
            months = [name for name, _, _ in partitions.month_partitions(conn, table)]
            dropped = f"{table}_p{_month(3):%Y_%m}"
            if locked and table == "raw.landed_metric_events":
                assert dropped in months
            else:
                assert dropped not in months
            column = partitions.PARTITIONED[table]
            assert conn.execute(f"select {column} from {table} order by 1").fetchall() == [  # noqa: S608
                (at,) for at in kept
            ]
        # The files still balance: what retention took is counted per file.
        assert conn.execute(
            "select file_path, rows_purged from raw.landed_files order by 1"
        ).fetchall() == [("batch.json", 3), ("m.ndjson", 3)]
        assert conn.execute("show lock_timeout").fetchone()[0] == "0"


def _claude_code_lines(conn, times: list[datetime]) -> None:
    """One assistant line per time, each asking for a tool, in one log."""
    ensure_raw_schema(conn)
    partitions.add_months(conn, "raw.claude_code_lines", times)
    for n, at in enumerate(times, start=1):
        conn.execute(
            "insert into raw.claude_code_lines (file_path, line_number, project, "
            "file_session_id, message_id, tool_uses, occurred_at, _event_at, _run_id) "
            "values ('p/s.jsonl', %s, 'p', 's', %s, %s, %s, %s, 'load')",
            (
                n,
                f"msg_{n}",
                Jsonb([{"type": "tool_use", "id": f"toolu_{n}", "name": "Task"}]),
                at,
                at,
            ),
        )
    conn.commit()


def test_retention_logs_the_claude_code_lines_it_drops_or_deletes(urls):
    """A dropped month fires no delete trigger: retention logs its lines as removed itself,
    so the staging tables count their messages and tool uses again; the rows it deletes are
    logged by the trigger. What every staging table has built past is forgotten."""
    cutoff_day = _month(2) + timedelta(days=14)
    times = [_at(_month(3)), _at(_month(2) + timedelta(days=9)), _at(_month(1))]
    with connect(urls.warehouse) as conn:
        _claude_code_lines(conn, times)
        purged_at = conn.execute("select now()").fetchone()[0]
        days = (datetime.now(UTC).date() - cutoff_day).days
        retention.purge(conn, "purge", now=datetime.now(UTC), days=days)
        months = [name for name, _, _ in partitions.month_partitions(conn, "raw.claude_code_lines")]
        assert f"raw.claude_code_lines_p{_month(3):%Y_%m}" not in months
        removed = "select message_id, tool_ids, has_task from raw.claude_code_removed_lines "
        assert conn.execute(
            removed + "where not whole and removed_at >= %s order by 1", (purged_at,)
        ).fetchall() == [("msg_1", ["toolu_1"], True), ("msg_2", ["toolu_2"], True)]
        # Forgotten once all three readers have built past it, not before.
        conn.execute(
            "create schema if not exists intermediate; create table intermediate.build_watermarks "
            "(model_name text primary key, built_from timestamptz not null, "
            "updated_at timestamptz not null default now())"
        )
        readers = retention.REMOVED_LINES_READERS
        conn.execute(
            "insert into intermediate.build_watermarks (model_name, built_from) "
            "select unnest(%s::text[]), now() + interval '1 minute'",
            (list(readers[:-1]),),
        )
        assert retention.forget_read_removals(conn) == 0
        conn.execute(
            "insert into intermediate.build_watermarks (model_name, built_from) "
            "values (%s, now() + interval '1 minute')",
            (readers[-1],),
        )
        assert retention.forget_read_removals(conn) == 3  # the two lines and the marker
        assert conn.execute("select count(*) from raw.claude_code_removed_lines").fetchone()[0] == 0


def test_a_table_made_before_partitioning_is_moved_into_partitions(urls):
    with connect(urls.warehouse) as conn:
        ensure_raw_schema(conn)
        # The shape an older release made: one table keyed without the time, and Claude Code
        # lines without `_event_at`.
        conn.execute("""
            create table raw.collector_events_old (like raw.collector_events including defaults);
            drop table raw.collector_events;
            alter table raw.collector_events_old rename to collector_events;
            alter table raw.collector_events add primary key (source_id);
            create index collector_events_created_at_brin on raw.collector_events
                using brin (created_at);
            create view public.reads_raw as select count(*) from raw.collector_events;
            create table raw.claude_code_lines_old (like raw.claude_code_lines including defaults);
            drop table raw.claude_code_lines;
            alter table raw.claude_code_lines_old rename to claude_code_lines;
            alter table raw.claude_code_lines drop column _event_at;
            alter table raw.claude_code_lines add primary key (file_path, line_number);
            create trigger bump_loaded_at before update on raw.claude_code_lines
                for each row execute function raw.bump_loaded_at();
        """)
        conn.execute(
            "insert into raw.collector_events (source_id, created_at, _run_id, _loaded_at) "
            "select g, %s::timestamptz + g * interval '1 day', 'old', "
            "'2026-01-01'::timestamptz from generate_series(1, 70) as g",
            (_at(_month(3)),),
        )
        conn.execute(
            "insert into raw.claude_code_lines (file_path, line_number, project, "
            "file_session_id, occurred_at, _run_id, _loaded_at) values "
            "('f', 1, 'p', 's', %s, 'old', '2026-01-01'), "
            "('f', 2, 'p', 's', null, 'old', '2026-01-02')",
            (_at(_month(2)),),
        )
        before = conn.execute("select * from raw.collector_events order by source_id").fetchall()
        conn.commit()

        ensure_raw_schema(conn)

        for table in ("raw.collector_events", "raw.claude_code_lines"):
            assert (
                conn.execute(
                    "select relkind from pg_class where oid = %s::regclass", (table,)
                ).fetchone()[0]
                == "p"
            )
            assert conn.execute(f"select count(*) from {table}_default").fetchone()[0] == 0  # noqa: S608
        assert (
            conn.execute("select * from raw.collector_events order by source_id").fetchall()
            == before
        )
        assert len(partitions.month_partitions(conn, "raw.collector_events")) >= 3
        # A line without a time goes by when it was loaded, which the move did not change.
        assert conn.execute(
            "select line_number, _event_at, _loaded_at from raw.claude_code_lines order by 1"
        ).fetchall() == [
            (1, _at(_month(2)), datetime(2026, 1, 1, tzinfo=UTC)),
            (2, datetime(2026, 1, 2, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)),
        ]
        assert conn.execute(
            "select tgname from pg_trigger where tgrelid = 'raw.collector_events'::regclass "
            "and not tgisinternal order by 1"
        ).fetchall() == [("bump_loaded_at",), ("log_deleted_days",), ("log_updated_days",)]
        # What read the old table went with it (dbt makes its views again).
        assert conn.execute("select to_regclass('public.reads_raw')").fetchone()[0] is None
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(
                "insert into raw.collector_events (source_id, created_at, _run_id) "
                "select source_id, created_at, 'again' from raw.collector_events limit 1"
            )


def test_the_raw_suite_sees_a_key_held_at_two_times(small_collector):
    with connect(small_collector.collector) as source, connect(small_collector.warehouse) as wh:
        pull_events(source, wh, "first", now=SAMPLE_END)
    spec = next(s for s in SUITES if s.name == "raw_collector_events")
    described = "each source_id on one row of raw.collector_events"

    def failing() -> list:
        outcome = run_suite(small_collector.warehouse, spec)
        (held_once,) = [o for o in outcome.outcomes if o.description == described]
        return held_once.failing_keys

    assert failing() == []
    with connect(small_collector.warehouse) as wh:
        # A loader bug would leave the old version of a row whose time moved.
        wh.execute(
            "insert into raw.collector_events (source_id, created_at, host_id, _run_id) "
            "select source_id, created_at - interval '1 hour', host_id, 'bug' "
            "from raw.collector_events order by source_id limit 1"
        )
    assert len(failing()) == 2


def test_dbt_can_partition_with_the_raw_functions_once_roles_exist(urls):
    functions = (
        "raw.add_month_partitions(regclass, text, date[])",
        "raw.add_month_partition(regclass, text, date)",
        "raw.name_partitions_after(regclass)",
    )
    with connect(urls.warehouse) as conn:
        setup_roles(conn)
        # As after an upgrade: the loaders' first setup makes them, as atw_loader, whose new
        # functions are nobody else's to run (warehouse/sql/roles.sql).
        conn.execute("drop function " + ", ".join(functions))  # noqa: S608 - constants
        conn.commit()
        ensure_raw_schema(conn)
        assert conn.execute(
            "select bool_and(has_function_privilege('atw_transformer', f, 'execute')) "
            "from unnest(%s::text[]) as f",
            (list(functions),),
        ).fetchone()[0]
