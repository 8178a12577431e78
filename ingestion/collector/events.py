"""Pull `telemetry_events` from the collector into `raw.collector_events`.

One transaction, one REPEATABLE READ snapshot of the collector, two paths:

- **Rows that need nothing** stream from the collector's `COPY ... TO STDOUT` straight into
  the warehouse's `COPY ... FROM STDIN`, in chunks of 256 KiB that Python only scans.
- **The rest** are held back: rows the collector's own query flags as possibly breaking the
  record contract (`contract.CollectorEvent`'s `route_sql`, a cheap superset of its rules) and
  rows in which one RE2 search of the stream finds something a secret could be
  (`redaction.may_hold_secret`). They are read again as JSON on the same snapshot, validated and
  redacted in Python; those that break a rule go to `raw.quarantine` with its reason.

Which ids are read: every id above the watermark (new rows), and every id above the overlap
floor that changed since the previous pull's snapshot: the floor is the watermark a pull recorded
at least `late_window` (26 h) before the previous pull, on the collector's own clock
(`raw.collector_pulls`), never `created_at`, which is the client's clock; "changed since" is the
row's `xmin`. That covers what the collector's cost worker rewrites (tokens and cost, up to 24 h
after insert) and rows committed late below the watermark. Re-read rows land in a temp table and
are merged by source id, touching only rows whose content changed. A `window` (backfill) re-reads
every row created in it as well.

After the merge, the collector and raw are compared per UTC day on the same snapshot
(`reconciliation.collector_days`): the days the pull read, or, weekly and when asked, every day
of retention (`reconcile_all`). A whole reconciliation counts the
collector's side on a second connection that imports the pull's snapshot, while the pull reads.
Rerunning a window changes nothing. Retried-batch copies stay in raw; staging fingerprints them
and counts each event once.
"""

from __future__ import annotations

from collections import Counter
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta

import psycopg
from psycopg import sql

from ingestion.collector import contract
from ingestion.core import load_log, partitions, quarantine, reconciliation, settings, watermarks
from ingestion.core.contract_fields import (
    LoadContext,
    check,
    is_clean,
    load_context,
    parse_json,
    route_sql,
    timestamp_floor,
)
from ingestion.core.copy_rows import copy_rows
from ingestion.core.load_errors import LoadError, describe
from ingestion.core.load_log import LoadCounts
from ingestion.core.quarantine import Rejection
from ingestion.core.raw_schema import ensure_raw_schema
from ingestion.core.redaction import may_hold_secret

SOURCE = "collector.telemetry_events"

SOURCE_COLUMNS = (
    "id",
    "host_id",
    "session_id",
    "event_type",
    "agent_name",
    "hook_name",
    "mode",
    "execution_type",
    "decision",
    "decision_reason",
    "tool_name",
    "working_dir",
    "latency_ms",
    "model_tier",
    "model_name",
    "success",
    "error_count",
    "extra_data",
    "created_at",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cached_tokens",
    "reasoning_tokens",
    "cost",
    "client_version",
    "generation_id",
    "cost_fetch_retries",
)
# The same columns under their names in raw.collector_events.
RAW_COLUMNS = ("source_id",) + SOURCE_COLUMNS[1:]
_VALUE_COLUMNS = RAW_COLUMNS[1:]


def late_window() -> timedelta:
    """ATW_COLLECTOR_LATE_HOURS (default 26): how long after insert a collector row may still
    change (cost rewrites, late commits), by the collector's clock."""
    return timedelta(hours=settings.number("ATW_COLLECTOR_LATE_HOURS"))


_OVERLAP_DDL = """
create temp table _overlap_events (
    source_id bigint, host_id text, session_id text, event_type text, agent_name text,
    hook_name text, mode text, execution_type text, decision text, decision_reason text,
    tool_name text, working_dir text, latency_ms integer, model_tier text, model_name text,
    success boolean, error_count integer, extra_data jsonb, created_at timestamptz,
    prompt_tokens integer, completion_tokens integer, total_tokens integer, cached_tokens integer,
    reasoning_tokens integer, cost numeric(12, 8), client_version text, generation_id text,
    cost_fetch_retries integer
) on commit drop;
"""


def _columns(names: tuple[str, ...], table: str | None = None) -> sql.Composed:
    """`names` as a column list, qualified by `table` if given."""
    return sql.SQL(", ").join(sql.Identifier(*filter(None, (table, c))) for c in names)


# The key holds `created_at` (the table is partitioned by it), so a row whose time changed at
# the collector would not meet its old version: that one goes first (counted as an update).
# Only a re-read row not held at its own time is looked for in every month: raw holds a source
# id once, and a row held at its time is found in its month's partition alone.
_MOVED = """
with unheld as materialized (
    select i.source_id, i.created_at
    from _overlap_events as i
    where not exists (
        select 1 from raw.collector_events as e
        where e.source_id = i.source_id and e.created_at = i.created_at
    )
),
moved as (
    delete from raw.collector_events as e
    using unheld as i
    where e.source_id = i.source_id and e.created_at <> i.created_at
    returning e.source_id, e.created_at
)
select count(distinct source_id),
    coalesce(array_agg(distinct (created_at at time zone 'UTC')::date), '{}')
from moved
"""

# Inserted and updated rows, told apart by whether the key was held before (a partitioned
# table cannot return `xmax`); the CTEs all read the table as it was before the insert.
_MERGE_OVERLAP = sql.SQL("""
with new as (
    select count(*) as n from _overlap_events as i
    where not exists (
        select 1 from raw.collector_events as e
        where e.source_id = i.source_id and e.created_at = i.created_at
    )
),
merged as (
    insert into raw.collector_events as t ({raw_columns})
    select {incoming}
    from _overlap_events as i
    on conflict (source_id, created_at) do update set
        ({value_columns}, _run_id, _loaded_at)
        = ({excluded}, excluded._run_id, now())
    where ({current})
        is distinct from ({excluded})
    returning 1
)
select new.n, (select count(*) from merged) - new.n from new
""").format(
    raw_columns=_columns(RAW_COLUMNS),
    incoming=_columns(RAW_COLUMNS, "i"),
    value_columns=_columns(_VALUE_COLUMNS),
    excluded=_columns(_VALUE_COLUMNS, "excluded"),
    current=_columns(_VALUE_COLUMNS, "t"),
)

# Rows above the overlap floor that changed since the previous pull's snapshot: written by a
# transaction that was still running when it was taken, or began after (their xmin is at least
# that snapshot's xmin; `age` compares transaction ids across wraparound). A row committed late
# or rewritten by the cost worker always is; one that did not change is not read again.
_CHANGED = (
    "(t.id > %(floor)s and (%(previous_xmin)s::bigint is null or age(t.xmin) <= "
    "age((%(previous_xmin)s::bigint %% 4294967296)::text::xid)))"
)
_IN_WINDOW = "(t.created_at >= %(window_start)s and t.created_at < %(window_end)s)"

_KEEP_PURGED_OUT = """
delete from _overlap_events as i
where i.created_at < (select max(cutoff) from raw.retention_runs
                      where table_name = 'raw.collector_events')
    and not (i.created_at >= %(window_start)s and i.created_at < %(window_end)s)
    and not exists (select 1 from raw.collector_events as e where e.source_id = i.source_id)
"""

_REFETCH_BATCH = 5_000
_CHUNK_BYTES = 256 * 1024


def _route(unwraps: bool) -> str:
    """`route_sql` for the collector's rows, `%` doubled for a query with bind parameters
    (the load's clock is the parameter `now`)."""
    marker = "\x00now\x00"
    return (
        route_sql(contract.CollectorEvent, "t", marker, unwraps)
        .replace("%", "%%")
        .replace(marker, "%(now)s")
    )


class _Passthrough:
    """The COPY stream from the collector, written on to the warehouse but for the rows that
    must go through Python: those the collector's query flagged (they may break the contract)
    and those that may hold a secret. Each row arrives as `flag<TAB>row<NEWLINE>`; the flag
    column is cut off, the held-back rows' ids kept."""

    def __init__(self, into):
        self.into = into
        self.held_back: list[int] = []
        self.written = 0

    def write(self, chunk: bytes) -> None:
        if not chunk:
            return
        suspect = may_hold_secret(chunk)
        if not suspect and not chunk.startswith(b"t\t") and b"\nt\t" not in chunk:
            # Nothing held back (most chunks): cut every flag at once. COPY escapes newlines
            # inside values, so a newline byte only ever ends a row.
            self.into.write(chunk[2:].replace(b"\nf\t", b"\n"))
            self.written += chunk.count(b"\n")
            return
        kept = []
        for line in chunk.split(b"\n")[:-1]:
            row = line[2:]
            if line[:1] == b"t" or (suspect and may_hold_secret(row)):
                self.held_back.append(int(row[: row.index(b"\t")]))
            else:
                kept.append(row)
        if kept:
            kept.append(b"")
            self.into.write(b"\n".join(kept))
            self.written += len(kept) - 1


def _validated(rows, context: LoadContext, redactions: Counter):
    """Rows of the held-back records that keep the contract (redacted), and rejections of those
    that do not."""
    valid, rejections = [], []
    for source_id, record in rows:
        key = str(source_id)
        try:
            event = check(
                contract.CollectorEvent, parse_json(record), context, clean=is_clean(record)
            )
        except Exception as error:  # noqa: BLE001 - one bad row never stops the pull
            rejections.append(quarantine.rejection(key, error, record))
            continue
        redactions.update(context.redactions)
        row = event.model_dump()
        row["source_id"] = source_id
        valid.append(row)
    return valid, rejections


def _stream(
    source,
    warehouse,
    where: str,
    params: dict,
    target: str,
    context: LoadContext,
    redactions: Counter,
) -> tuple[int, list[Rejection]]:
    """Load the collector rows matching `where` into `target`: COPY straight through those that
    need nothing, Python for the rest (read again as JSON, on the same snapshot). Returns (rows
    read, rejections)."""
    # `where` and the route are SQL this module composes from its own constants.
    select = sql.SQL(
        "copy (select {route}, {columns} from telemetry_events as t where {where}) to stdout"
    ).format(
        route=sql.SQL(params["route"]), columns=_columns(SOURCE_COLUMNS, "t"), where=sql.SQL(where)
    )
    failure = None
    try:
        with warehouse.cursor() as cursor:
            with (
                source.cursor().copy(select, params) as out,
                cursor.copy(
                    sql.SQL("copy {} ({}) from stdin").format(
                        sql.Identifier(*target.split(".")), _columns(RAW_COLUMNS)
                    )
                ) as into,
            ):
                passthrough = _Passthrough(into)
                # The server sends a message per row; large chunks save Python work.
                chunk = bytearray()
                for block in out:
                    chunk += block
                    if len(chunk) >= _CHUNK_BYTES:
                        passthrough.write(bytes(chunk))
                        chunk = bytearray()
                passthrough.write(bytes(chunk))
    except psycopg.Error as error:
        failure = describe(error)
    if failure is not None:
        # Raised outside the handler, so that no traceback carries the database's message
        # (which quotes the value).
        raise LoadError(f"{SOURCE}: copying into {target} failed ({failure})")
    rows, rejections = [], []
    for start in range(0, len(passthrough.held_back), _REFETCH_BATCH):
        batch = source.execute(
            "select t.id, row_to_json(t)::text from telemetry_events as t where t.id = any(%s)",
            (passthrough.held_back[start : start + _REFETCH_BATCH],),
        )
        valid, rejected = _validated(batch, context, redactions)
        rows += valid
        rejections += rejected
    read = passthrough.written + len(passthrough.held_back)
    # Rows the database still refuses (not expected: the contract makes them fit) are
    # quarantined too.
    rejections += copy_rows(
        warehouse, target, RAW_COLUMNS, rows, key_of=lambda row: str(row["source_id"])
    )
    return read, rejections


def overlap_floor(warehouse, late: timedelta) -> int:
    """The id at or below which no collector row can change any more: the watermark found by
    the latest pull at least `late` before the previous one (0 when there is none yet)."""
    return warehouse.execute(
        """
        select coalesce(max(high_id), 0) from raw.collector_pulls
        where pulled_at <= (select max(pulled_at) from raw.collector_pulls) - %s
        """,
        (late,),
    ).fetchone()[0]


def pull_events(
    source: psycopg.Connection,
    warehouse: psycopg.Connection,
    run_id: str,
    now: datetime | None = None,
    window: tuple[datetime, datetime] | None = None,
    reconcile_all: bool = False,
) -> LoadCounts:
    """Load new and recently changed collector events; returns what happened to each row.

    `now` is the load's clock for the contract's timestamp window (default: the warehouse's).
    `window` (start inclusive, end exclusive) re-reads every row created in it as well, merged
    by source id like the overlap: a backfill of those days, idempotent. The reconciliation
    covers the days this pull read, or with `reconcile_all` every day inside retention."""
    ensure_raw_schema(warehouse)
    started_at = datetime.now(UTC)
    counts = LoadCounts(source=SOURCE)
    redactions: Counter = Counter()
    source.rollback()
    previous_isolation = source.isolation_level
    # One snapshot of the collector for every query of this pull.
    source.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    # With `reconcile_all`, the collector's totals per day are counted on a second connection
    # while the pull reads: the whole-table scan costs about what the pull itself does.
    ahead = ExitStack()
    try:
        # The months of the new rows get their partitions first, in a transaction of their
        # own: attaching one locks the table's default partition against readers until commit.
        with warehouse.transaction():
            partitions.add_months(
                warehouse, "raw.collector_events", _new_months(source, warehouse, now)
            )
        with warehouse.transaction():
            watermarks.lock(warehouse, SOURCE)
            warehouse.execute("select set_config('atw.run_id', %s, true)", (run_id,))
            context = load_context(warehouse)
            context.now = now or context.now
            old_high = int(watermarks.read(warehouse, SOURCE).high_id or 0)
            floor = overlap_floor(warehouse, late_window())
            pulled_at, snapshot_xmin = source.execute(
                "select now(), pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
            ).fetchone()
            totals_ahead = (
                ahead.enter_context(
                    reconciliation.collector_totals_ahead(source, warehouse, pulled_at)
                )
                if reconcile_all
                else None
            )
            start, end = window or (context.now, context.now)
            params = {
                "old_high": old_high,
                "floor": floor,
                "now": context.now,
                "window_start": start,
                "window_end": end,
                "previous_xmin": _previous_xmin(warehouse),
                "route": _route(source.info.server_version >= 160000),
            }

            # New rows: straight into raw.
            new_read, new_rejected = _stream(
                source,
                warehouse,
                "t.id > %(old_high)s",
                params,
                "raw.collector_events",
                context,
                redactions,
            )

            # Rows that may have changed since they were read: merged by source id.
            warehouse.execute(_OVERLAP_DDL)
            overlap = f"t.id <= %(old_high)s and ({_CHANGED} or {_IN_WINDOW})"
            overlap_read, overlap_rejected = _stream(
                source, warehouse, overlap, params, "_overlap_events", context, redactions
            )
            overlap_days = _days_of(warehouse, "_overlap_events")
            # What retention purged stays purged: a re-read brings back no row dated before
            # its cutoff (a backfill of those days does, as asked; retention removes it again).
            warehouse.execute(_KEEP_PURGED_OUT, params)
            partitions.add_months(
                warehouse,
                "raw.collector_events",
                (
                    month
                    for (month,) in warehouse.execute(
                        "select distinct date_trunc('month', created_at at time zone 'UTC')::date "
                        "from _overlap_events"
                    )
                ),
            )
            moved, moved_from = warehouse.execute(_MOVED).fetchone()
            inserted, updated = warehouse.execute(_MERGE_OVERLAP).fetchone()
            inserted, updated = inserted - moved, updated + moved
            if overlap_rejected:
                # Its current version breaks the contract: the old one no longer stands either.
                warehouse.execute(
                    "delete from raw.collector_events where source_id = any(%s)",
                    ([int(r.source_key) for r in overlap_rejected],),
                )
            quarantine.record(warehouse, SOURCE, run_id, new_rejected + overlap_rejected)
            partitions.add_months(warehouse, "raw.collector_events")

            high_id = source.execute("select max(id) from telemetry_events").fetchone()[0]
            touched = (
                None
                if reconcile_all
                else _days_read(
                    source,
                    warehouse,
                    params,
                    {*overlap_days, *moved_from},
                    new_rejected + overlap_rejected,
                )
            )
            reconciliation.collector_days(
                source, warehouse, run_id, touched, SOURCE, pulled_at, totals_ahead
            )
            source.commit()  # end the read transaction; nothing is written to the collector

            counts.rows_read = new_read + overlap_read
            counts.rows_quarantined = len(new_rejected) + len(overlap_rejected)
            counts.rows_inserted = new_read - len(new_rejected) + inserted
            counts.rows_updated = updated
            counts.rows_loaded = counts.rows_inserted + counts.rows_updated
            counts.rows_skipped_duplicate = (
                counts.rows_read - counts.rows_quarantined - counts.rows_loaded
            )
            load_log.record_redactions(warehouse, run_id, SOURCE, redactions)
            high_id = max(old_high, high_id or 0)
            watermarks.advance(warehouse, SOURCE, high_id, None)
            _record_pull(warehouse, run_id, pulled_at, high_id, snapshot_xmin)
            load_log.record(warehouse, run_id, counts, started_at)
    finally:
        ahead.close()
        source.rollback()
        source.isolation_level = previous_isolation
    return counts


def _new_months(source, warehouse, now: datetime | None) -> list[date]:
    """The UTC months of the collector rows above the watermark (read without its lock: an
    older one only adds months), within the times the contract lets in, so that no hostile
    one (infinity, year 200000) reaches Python."""
    return [
        month
        for (month,) in source.execute(
            "select distinct date_trunc('month', created_at at time zone 'UTC')::date "
            "from telemetry_events where id > %s and created_at >= %s "
            "and created_at <= %s::timestamptz + interval '1 day'",
            (
                int(watermarks.read(warehouse, SOURCE).high_id or 0),
                timestamp_floor(),
                now or datetime.now(UTC),
            ),
        )
    ]


def _days_of(warehouse, table: str, where: str = "true", params=None) -> set[date]:
    """The UTC days of the rows of `table` (a name this module composes) matching `where`."""
    return {
        day
        for (day,) in warehouse.execute(
            sql.SQL(
                "select distinct (created_at at time zone 'UTC')::date from {} where {}"
            ).format(sql.Identifier(*table.split(".")), sql.SQL(where)),
            params,
        )
    }


def _days_read(
    source, warehouse, params: dict, overlap_days: set[date], rejected: list[Rejection]
) -> list[date]:
    """The UTC days of the rows this pull read (new, re-read and backfilled), inside the
    contract's window (rows dated outside it were quarantined), and those re-read rows moved
    from. Found from what the pull wrote, and for the rows it set aside by id at the
    collector: a second pass over the collector's changed rows would cost a scan of its whole
    table while the overlap floor is still 0 (the first 26 hours)."""
    days = overlap_days | _days_of(
        warehouse, "raw.collector_events", "source_id > %(old_high)s", params
    )
    set_aside = [int(r.source_key) for r in rejected if r.source_key.isdigit()]
    if set_aside:
        days |= {
            day
            for (day,) in source.execute(
                "select distinct (created_at at time zone 'UTC')::date from telemetry_events "
                "where id = any(%(ids)s) and created_at >= %(timestamp_floor)s "
                "and created_at < %(now)s::timestamptz + interval '2 days'",
                {"ids": set_aside, "timestamp_floor": timestamp_floor(), "now": params["now"]},
            )
        }
    return sorted(days)


def _previous_xmin(warehouse) -> int | None:
    """The oldest transaction still running when the previous pull took its snapshot."""
    row = warehouse.execute(
        "select snapshot_xmin from raw.collector_pulls order by pulled_at desc, run_id desc limit 1"
    ).fetchone()
    return row[0] if row else None


def _record_pull(
    warehouse, run_id: str, pulled_at: datetime, high_id: int, snapshot_xmin: int | None = None
) -> None:
    """Record the mark this pull found and its snapshot, on the collector's clock, and forget
    the marks no later pull needs (those before the one that will be the next pull's floor)."""
    warehouse.execute(
        "insert into raw.collector_pulls (run_id, pulled_at, high_id, "
        "snapshot_xmin) values (%s, %s, %s, %s)",
        (run_id, pulled_at, high_id, snapshot_xmin),
    )
    warehouse.execute(
        """
        delete from raw.collector_pulls
        where pulled_at < (select max(pulled_at) from raw.collector_pulls
                           where pulled_at <= %s::timestamptz - %s)
        """,
        (pulled_at, late_window()),
    )
