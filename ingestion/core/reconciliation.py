"""Reconciliation with the source: does the warehouse hold what the source holds?

- Collector events, per UTC day: rows, and sums of every token column and of cost, counted in
  the collector (on the very snapshot the pull read, so rows written since cannot disturb it)
  and in `raw.collector_events`. Raw keeps every collector row (retried copies too), so the two
  must agree exactly once the quarantined rows are set aside.
- File drops, per file: the records the file holds (its current content, by hash) against its
  rows in raw, the quarantined and duplicate ones and those retention purged.
- Claude Code logs, per file: lines and API responses read from the file against its lines in
  raw, the quarantined ones and those retention purged.

Micro-batches compare the days and files they read. Every other run does too, and compares every
day inside retention and every file when the source's latest whole comparison
(`raw.whole_reconciliations`) is older than ATW_RECONCILE_ALL_HOURS (a week; 0: every run), when
asked (`atw run --reconcile-all`, `atw load`), and in a backfill of the collector: a whole
comparison scans both sides' tables, a cost that grows with history, while what a run read
follows its new data.

Each comparison is a row of `raw.reconciliation`. A scope (a day or a file) is out of balance
while its latest row says so: the blocking check `reconciliation` fails until a later run finds
it balanced, whatever that run touched.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from threading import Event

import psycopg
from psycopg import IsolationLevel, sql

from ingestion.core import settings
from ingestion.core.connections import connect_like
from ingestion.core.contract_fields import timestamp_floor

# Every token column, added up: a rewrite that changes any of them changes the sum.
_TOKENS = (
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cached_tokens",
    "reasoning_tokens",
)


@dataclass(frozen=True)
class Finding:
    source: str
    scope: str
    source_rows: int
    warehouse_rows: int
    set_aside_rows: int
    source_tokens: int | None
    warehouse_tokens: int | None
    source_cost: Decimal | None
    warehouse_cost: Decimal | None

    @property
    def missing_rows(self) -> int:
        return self.source_rows - self.set_aside_rows - self.warehouse_rows


def _day_ranges(days: list[date]) -> list[tuple[datetime, datetime]]:
    """The UTC days `days` as [start, end) ranges of time, consecutive days in one."""
    ranges: list[tuple[datetime, datetime]] = []
    for day in sorted(set(days)):
        start = datetime.combine(day, datetime.min.time(), UTC)
        if ranges and ranges[-1][1] == start:
            ranges[-1] = (ranges[-1][0], start + timedelta(days=1))
        else:
            ranges.append((start, start + timedelta(days=1)))
    return ranges


def _on_days(days: list[date] | None) -> tuple[sql.Composable, dict]:
    """SQL and its parameters: `t.created_at` falls on one of the UTC days `days`, one index
    range per run of consecutive days (a range from the first day to the last would read every
    day between a late row's old day and today); true for every day when None (the caller
    bounds them)."""
    if days is None:
        return sql.SQL("true"), {}
    ranges = _day_ranges(days)
    params = {}
    terms = []
    for number, (start, end) in enumerate(ranges):
        params[f"from_{number}"], params[f"to_{number}"] = start, end
        terms.append(
            sql.SQL("(t.created_at >= {} and t.created_at < {})").format(
                sql.Placeholder(f"from_{number}"), sql.Placeholder(f"to_{number}")
            )
        )
    if not terms:
        return sql.SQL("false"), params
    return sql.SQL("({})").format(sql.SQL(" or ").join(terms)), params


def _collector_floor(warehouse) -> tuple[datetime | None, datetime]:
    """Retention's cutoff for raw.collector_events (None before any purge), and the earliest
    time a reconciled row may have: days the contract accepts at all (rows dated outside it
    are all set aside anyway), inside retention."""
    cutoff = warehouse.execute(
        "select max(cutoff) from raw.retention_runs where table_name = 'raw.collector_events'"
    ).fetchone()[0]
    return cutoff, timestamp_floor() if cutoff is None else max(cutoff, timestamp_floor())


def _tokens(table: str) -> sql.Composable:
    return sql.SQL(" + ").join(
        sql.SQL("coalesce({}, 0)").format(sql.Identifier(table, c)) for c in _TOKENS
    )


_SINCE = "t.created_at >= %(floor)s and t.created_at < {now}::timestamptz + interval '2 days'"

# Per day of the collector: rows and the sums, so that the rows set aside can be taken off
# the totals afterwards (a join against their ids in the scan of every row costs a quarter of
# it). Numeric holds NaN, which no subtraction takes off: a day whose cost sum is NaN is summed
# again without its rows set aside (`_kept_cost`).
_SOURCE_TOTALS = sql.SQL("""
    select (t.created_at at time zone 'UTC')::date, count(*), coalesce(sum({tokens}), 0),
        coalesce(sum(t.cost), 0)
    from telemetry_events as t
    where {since} and {on_days} and {rows}
    group by 1
    """)


def _source_totals(source, params: dict, on_days: sql.Composable, rows: str) -> dict:
    query = _SOURCE_TOTALS.format(
        tokens=_tokens("t"),
        since=sql.SQL(_SINCE.format(now="%(source_now)s")),
        on_days=on_days,
        rows=sql.SQL(rows),
    )
    return {row[0]: row[1:] for row in source.execute(query, params)}


def _kept_cost(source, params: dict, days: list[date]) -> dict:
    """The cost of the rows not set aside, on `days`."""
    if not days:
        return {}
    on_days, day_params = _on_days(days)
    query = sql.SQL("""
        select (t.created_at at time zone 'UTC')::date,
            coalesce(sum(t.cost) filter (where not t.id = any(%(set_aside)s)), 0)
        from telemetry_events as t
        where {since} and {on_days}
        group by 1
        """).format(since=sql.SQL(_SINCE.format(now="%(source_now)s")), on_days=on_days)
    return dict(source.execute(query, {**params, **day_params}).fetchall())


@contextmanager
def collector_totals_ahead(source, warehouse, source_now: datetime) -> Iterator[Future]:
    """Every day's totals of the collector inside retention, counted on `source`'s snapshot
    (REPEATABLE READ, still open) by a second connection while the caller goes on pulling:
    `collector_days` with `days` None takes the future. The scan reads the collector's whole
    table; the pull's own work hides most of it."""
    _, floor = _collector_floor(warehouse)
    params = {"floor": floor, "source_now": source_now}
    snapshot = source.execute("select pg_export_snapshot()").fetchone()[0]

    other = connect_like(source)
    other.isolation_level = IsolationLevel.REPEATABLE_READ
    other.read_only = True
    abandoned = Event()

    def totals() -> dict:
        if abandoned.is_set():
            return {}
        other.execute(sql.SQL("set transaction snapshot {}").format(sql.Literal(snapshot)))
        return _source_totals(other, params, sql.SQL("true"), "true")

    with other, ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(totals)
        try:
            yield future
        finally:
            if not future.done():
                # The pull failed: stop the scan rather than wait for it, and let the pull's
                # own error be the one raised.
                abandoned.set()
                with suppress(psycopg.Error):
                    other.cancel_safe()


def collector_days(
    source,
    warehouse,
    run_id: str,
    days: list[date] | None,
    name: str,
    source_now: datetime,
    totals_ahead: Future | None = None,
) -> list[Finding]:
    """Compare the collector (`name` in quarantine and load log) with raw per UTC day:
    `days`, or (None) every day inside retention. `source` must be in the pull's snapshot
    (whose `now()` is `source_now`), `warehouse` in its transaction. With `days` None,
    `totals_ahead` may hold the collector's totals (`collector_totals_ahead`)."""
    cutoff, floor = _collector_floor(warehouse)
    # Quarantined rows the warehouse does not hold are the source's rows set aside.
    set_aside = [
        key
        for (key,) in warehouse.execute(
            "select q.source_key::bigint from raw.quarantine as q "
            "where q.source = %s and q.source_key ~ '^[0-9]{1,18}$' "
            "and not exists (select 1 from raw.collector_events as e "
            "where e.source_id = q.source_key::bigint)",
            (name,),
        )
    ]
    on_days, day_params = _on_days(days)
    params = {"floor": floor, "set_aside": set_aside, "source_now": source_now, **day_params}
    warehouse_query = sql.SQL("""
        select (t.created_at at time zone 'UTC')::date, count(*),
            coalesce(sum({tokens}), 0),
            coalesce(sum(t.cost), 0)
        from raw.collector_events as t
        where {since} and {on_days}
        group by 1
        """).format(tokens=_tokens("t"), since=sql.SQL(_SINCE.format(now="now()")), on_days=on_days)
    # The two sides at once, each on its own connection: every day of retention is a scan of
    # each table (1.0 s and 1.0 s at 5 M collector events, cached; the collector's may be
    # under way already, beside the pull).
    with ThreadPoolExecutor(max_workers=1) as pool:
        warehouse_rows = pool.submit(lambda: warehouse.execute(warehouse_query, params).fetchall())
        if days is None and totals_ahead is not None:
            totals = totals_ahead.result()
        else:
            totals = _source_totals(source, params, on_days, "true")
        aside = _source_totals(source, params, on_days, "t.id = any(%(set_aside)s)")
        kept_cost = _kept_cost(
            source, params, [day for day, row in totals.items() if row[2].is_nan()]
        )
        in_warehouse = {row[0]: row[1:] for row in warehouse_rows.result()}
    findings = []
    for day in sorted(set(totals) | set(in_warehouse) | set(days or [])):
        if cutoff is not None and day < cutoff.date():
            continue  # purged from raw by retention
        source_rows, source_tokens, source_cost = totals.get(day, (0, 0, 0))
        aside_rows, aside_tokens, aside_cost = aside.get(day, (0, 0, 0))
        held, warehouse_tokens, warehouse_cost = in_warehouse.get(day, (0, 0, 0))
        findings.append(
            Finding(
                name,
                day.isoformat(),
                source_rows,
                held,
                aside_rows,
                int(source_tokens - aside_tokens),
                int(warehouse_tokens),
                kept_cost[day] if day in kept_cost else source_cost - aside_cost,
                warehouse_cost,
            )
        )
    record(warehouse, run_id, findings)
    if days is None:
        _record_whole(warehouse, run_id, [name])
    return findings


def whole_due(warehouse, sources: tuple[str, ...]) -> bool:
    """Whether one of `sources` was never compared whole, or not within ATW_RECONCILE_ALL_HOURS
    less a little: a comparison is stamped when the load that made it commits, so a nightly
    run a week later to the minute must find it due all the same."""
    every = timedelta(hours=settings.number("ATW_RECONCILE_ALL_HOURS"))
    every -= min(timedelta(hours=1), every / 24)
    with warehouse.transaction():  # of its own, ended before the load's
        if warehouse.execute("select to_regclass('raw.whole_reconciliations')").fetchone()[0]:
            (recent,) = warehouse.execute(
                "select count(*) from raw.whole_reconciliations "
                "where source = any(%s) and reconciled_at > now() - %s",
                (list(sources), every),
            ).fetchone()
            return recent < len(set(sources))
    return True


def _record_whole(warehouse, run_id: str, sources) -> None:
    for source in sources:
        warehouse.execute(
            """
            insert into raw.whole_reconciliations (source, run_id, reconciled_at)
            values (%s, %s, now())
            on conflict (source) do update
                set run_id = excluded.run_id, reconciled_at = excluded.reconciled_at
            """,
            (source, run_id),
        )


def record(warehouse, run_id: str, findings: list[Finding]) -> None:
    if not findings:
        return
    with warehouse.cursor() as cursor:
        cursor.executemany(
            """
            insert into raw.reconciliation (run_id, source, scope, source_rows,
                warehouse_rows, set_aside_rows, source_tokens, warehouse_tokens, source_cost,
                warehouse_cost)
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            """,
            [
                (
                    run_id,
                    f.source,
                    f.scope,
                    f.source_rows,
                    f.warehouse_rows,
                    f.set_aside_rows,
                    f.source_tokens,
                    f.warehouse_tokens,
                    f.source_cost,
                    f.warehouse_cost,
                )
                for f in findings
            ],
        )


def landed_files(
    warehouse, run_id: str, keys: list[str] | None, tables: dict[str, str]
) -> list[Finding]:
    """Per landed file (`keys`, or every file when None): records it held against its rows in
    raw (`tables`: source name -> raw table), quarantined, duplicate and purged."""
    findings = []
    for source, table in tables.items():
        for key, read, held, aside in warehouse.execute(
            sql.SQL("""
                select f.file_path, f.rows_read,
                    (select count(*) from {table} as t where t.file_path = f.file_path),
                    f.rows_quarantined + f.rows_skipped_duplicate + f.rows_purged
                from raw.landed_files as f
                where f.file_format = %(source)s
                    and (%(keys)s::text[] is null or f.file_path = any(%(keys)s::text[]))
                """).format(table=sql.Identifier(*table.split("."))),
            {"source": source, "keys": keys},
        ):
            findings.append(Finding(source, key, read, held, aside, None, None, None, None))
    record(warehouse, run_id, findings)
    if keys is None:
        _record_whole(warehouse, run_id, tables)
    return findings


def claude_code_logs(warehouse, run_id: str, keys: list[str] | None, name: str) -> list[Finding]:
    """Per Claude Code log file: lines read against lines in raw, quarantined and purged; and
    API responses read against responses in raw and purged (as `tokens`: a count)."""
    # Two statements, not one `%(keys)s is null or ...`: a generic plan of that one (a statement
    # run often on a connection is prepared) reads every log's lines for a few keys.
    which = sql.SQL("true" if keys is None else "f.file_path = any(%(keys)s::text[])")
    findings = []
    for key, lines, held, aside, responses, held_responses in warehouse.execute(
        sql.SQL("""
            select f.file_path, f.lines_read, count(l.line_number),
                f.lines_quarantined + f.lines_purged, f.responses_read,
                count(l.line_number) filter (where l.message_id is not null
                    and l.input_tokens is not null) + f.responses_purged
            from raw.claude_code_files as f
            left join raw.claude_code_lines as l on l.file_path = f.file_path
            where {which}
            group by f.file_path
            """).format(which=which),
        {"keys": keys},
    ):
        findings.append(
            Finding(name, key, lines, held, aside, responses, held_responses, None, None)
        )
    record(warehouse, run_id, findings)
    if keys is None:
        _record_whole(warehouse, run_id, [name])
    return findings


def agent_cli_files(
    warehouse, run_id: str, agent_cli: str, keys: list[str] | None, name: str
) -> list[Finding]:
    """Per agent CLI file: the usage and tool rows its last read produced against those in raw,
    and their total tokens."""
    which = sql.SQL("true" if keys is None else "f.file_path = any(%(keys)s::text[])")
    findings = [
        Finding(name, key, rows, held, 0, tokens, held_tokens, None, None)
        for key, rows, held, tokens, held_tokens in warehouse.execute(
            sql.SQL("""
                select f.file_path, f.usage_rows_read + f.tool_rows_read,
                    coalesce(u.n, 0) + coalesce(t.n, 0), f.tokens_read, coalesce(u.tokens, 0)
                from raw.agent_cli_files as f
                left join lateral (
                    select count(*) as n, sum(total_tokens) as tokens
                    from raw.agent_cli_usage as u
                    where u.agent_cli = f.agent_cli and u.file_path = f.file_path
                ) as u on true
                left join lateral (
                    select count(*) as n from raw.agent_cli_tool_events as t
                    where t.agent_cli = f.agent_cli and t.file_path = f.file_path
                ) as t on true
                where f.agent_cli = %(agent_cli)s and {which}
                """).format(which=which),
            {"keys": keys, "agent_cli": agent_cli},
        )
    ]
    record(warehouse, run_id, findings)
    if keys is None:
        _record_whole(warehouse, run_id, [name])
    return findings


def out_of_balance(warehouse, sources: tuple[str, ...]) -> list[dict]:
    """The scopes whose latest comparison found rows missing, or (same rows) other sums."""
    return [
        dict(
            zip(
                (
                    "source",
                    "scope",
                    "missing_rows",
                    "source_rows",
                    "warehouse_rows",
                    "set_aside_rows",
                    "source_tokens",
                    "warehouse_tokens",
                    "source_cost",
                    "warehouse_cost",
                    "run_id",
                ),
                row,
                strict=True,
            )
        )
        for row in warehouse.execute(
            """
                select source, scope, source_rows - set_aside_rows - warehouse_rows,
                    source_rows, warehouse_rows, set_aside_rows, source_tokens,
                    warehouse_tokens, source_cost, warehouse_cost, run_id
                from (
                    select distinct on (source, scope) *
                    from raw.reconciliation
                    where source = any(%s)
                    order by source, scope, checked_at desc, reconciliation_id desc
                ) as latest
                where source_rows - set_aside_rows > warehouse_rows
                    or (source_rows - set_aside_rows = warehouse_rows
                        and (source_tokens is distinct from warehouse_tokens
                             or source_cost is distinct from warehouse_cost))
                order by source, scope
                """,
            (list(sources),),
        )
    ]
