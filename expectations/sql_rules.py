"""Expectations GX has no built-in for, as `UnexpectedRowsExpectation`s over the warehouse.

Each query returns one row per problem and only key columns and figures, never message text,
because those rows become the failing keys shown in Dagster and stored in the results table.
The queries run with the session time zone pinned to UTC, so `current_date` is a UTC day.
They are composed with psycopg's `sql` module (identifiers quoted, values as literals), then
rendered to the text GX wants, where `{batch}` stands for the table under validation.
"""

from __future__ import annotations

from psycopg import sql

from expectations.gx_classes import gxe
from ingestion.core import settings

# "A day with under half the usual rows is suspicious."
VOLUME_RATIO = 0.5
VOLUME_TRAILING_DAYS = 7
PROBLEM_ROWS = 100


def freshness_hours() -> float:
    return settings.number("ATW_DQ_FRESHNESS_HOURS")


# GX fills in `{batch}` with str.format, so every other brace of the rendered text is doubled.
# The marker holds NUL characters, which no PostgreSQL text or identifier can contain.
_BATCH_MARKER = "\0batch\0"
BATCH = sql.SQL(_BATCH_MARKER)
# What GX puts there differs with the query (a table, an aliased subquery, or an unaliased one
# when the query joins), so a query reads it only as `(select * from {batch}) as <alias>`.


def _gx_query(query: sql.Composable) -> str:
    """`query` as GX's text, `BATCH` in it becoming `{batch}`."""
    text = query.as_string()
    return text.replace("{", "{{").replace("}", "}}").replace(_BATCH_MARKER, "{batch}")


def _rows(
    query: sql.Composable, description: str, columns: list[str] | None = None
) -> gxe.UnexpectedRowsExpectation:
    """`columns`: the table's columns the query reads (the suite's schema rule needs them)."""
    return gxe.UnexpectedRowsExpectation(
        unexpected_rows_query=_gx_query(query),
        description=description,
        meta={"columns": columns or []},
    )


def _table(name: str) -> sql.Identifier:
    """`schema.table` as a quoted identifier."""
    return sql.Identifier(*name.split("."))


def fresh(column: str) -> gxe.UnexpectedRowsExpectation:
    """The newest row is at most ATW_DQ_FRESHNESS_HOURS old (an empty table is stale).

    Asked as "is there a row this recent": a range an index on `column` answers (the raw
    tables' BRIN, the calls fact's btree), where `max()` of a BRIN-indexed column reads the
    whole table. The newest row is looked up only when there is none, to report it."""
    hours = freshness_hours()
    return _rows(
        sql.SQL("""
        select latest.newest,
            round(extract(epoch from now() - latest.newest) / 3600, 1) as age_hours
        from (select max(t.{column}) as newest from (select * from {batch}) as t) as latest
        where not exists (
            select 1 from (select * from {batch}) as recent
            where recent.{column} >= now() - {hours} * interval '1 hour'
        )
        """).format(column=sql.Identifier(column), batch=BATCH, hours=sql.Literal(hours)),
        f"freshness: newest {column} at most {hours:g} h old",
    )


def volume(column: str) -> gxe.UnexpectedRowsExpectation:
    """Yesterday (UTC) has at least half the average rows of the seven days before it.

    The rows of those days are read first, as one range an index on `column` answers."""
    days = VOLUME_TRAILING_DAYS
    return _rows(
        sql.SQL("""
        with days as (
            select generate_series(current_date - {first_day}, current_date - 1,
                interval '1 day')::date as day
        ),
        recent as (
            select t.{column} as at from (select * from {batch}) as t
            where t.{column} >= current_date - {first_day} and t.{column} < current_date
        ),
        counts as (
            select days.day, count(recent.at) as row_count
            from days
            left join recent on recent.at >= days.day and recent.at < days.day + 1
            group by days.day
        ),
        baseline as (
            select avg(row_count) as average from counts where day < current_date - 1
        )
        select counts.day, counts.row_count, round(baseline.average, 1) as trailing_average
        from counts cross join baseline
        where counts.day = current_date - 1
            and counts.row_count < {ratio} * baseline.average
        """).format(
            first_day=sql.Literal(days + 1),
            column=sql.Identifier(column),
            batch=BATCH,
            ratio=sql.Literal(VOLUME_RATIO),
        ),
        f"volume: yesterday's rows by {column} at least {VOLUME_RATIO:g} x the {days}-day average",
    )


def conserved(source: str, table: str) -> gxe.UnexpectedRowsExpectation:
    """Every load of `source` balances (read = loaded + quarantined + duplicates), every
    quarantined row has its reason row, and `table` (the raw table as a whole, whatever rows
    the validation reads) holds no row that no load inserted."""
    return _rows(
        sql.SQL("""
        with loads as (
            select * from raw.load_log where source = {source}
        ),
        -- GX wants every rule to name its batch; this one reads the table as a whole, and
        -- PostgreSQL skips a CTE nothing reads.
        validated as (
            select * from {batch}
        ),
        unbalanced as (
            select run_id, 'unbalanced load' as problem, rows_read,
                rows_loaded + rows_quarantined + rows_skipped_duplicate as rows_accounted
            from loads
            where rows_read <> rows_loaded + rows_quarantined + rows_skipped_duplicate
                or rows_loaded <> rows_inserted + rows_updated
        ),
        unexplained_quarantine as (
            select loads.run_id, 'quarantined rows without a reason row' as problem,
                loads.rows_quarantined as rows_read, count(q.row_hash) as rows_accounted
            from loads
            -- A row quarantined again by later loads keeps its first and last run only, so
            -- loads in between match on time: first seen before this load ended, last seen
            -- after it started (both the server's clock: started_at is the client's).
            left join raw.quarantine as q
                on q.source = loads.source
                and (loads.run_id in (q.run_id, q.last_run_id)
                     or (q.quarantined_at <= loads.finished_at
                         and q.last_seen_at >= loads.started_at))
            where loads.rows_quarantined > 0
            group by loads.run_id, loads.rows_quarantined
            having count(q.row_hash) = 0
        ),
        unloaded as (
            select null::text as run_id, 'rows no load inserted' as problem,
                (select count(*) from {table}) as rows_read,
                coalesce(sum(rows_inserted), 0) as rows_accounted
            from loads
            having (select count(*) from {table}) > coalesce(sum(rows_inserted), 0)
        )
        select * from unbalanced
        union all select * from unexplained_quarantine
        union all select * from unloaded
        limit {limit}
        """).format(
            source=sql.Literal(source),
            batch=BATCH,
            table=_table(table),
            limit=sql.Literal(PROBLEM_ROWS),
        ),
        f"conservation: loads of {source} account for every row",
    )


def contract(model, key_columns: tuple[str, ...]) -> gxe.UnexpectedRowsExpectation:
    """Every row keeps the record contract its loader enforced (ingestion/contracts.py): the
    same declaration, written as SQL. Under the same settings, a row the loader accepted cannot
    fail it; a row written or edited around the loader can."""
    from ingestion.core.contract_fields import rules, violation_sql

    # SQL generated from the declaration in code (contract_fields), no outside text in it.
    violation = sql.SQL(violation_sql(model, "t", "t._loaded_at"))
    return _rows(
        sql.SQL("""
        select {keys}, v.broken_rule
        from (select t.*, {violation} as broken_rule from (select * from {batch}) as t) as v
        where v.broken_rule is not null
        limit {limit}
        """).format(
            keys=sql.SQL(", ").join(sql.Identifier("v", c) for c in key_columns),
            violation=violation,
            batch=BATCH,
            limit=sql.Literal(PROBLEM_ROWS),
        ),
        f"contract: every row keeps contracts.{model.__name__}",
        sorted({rule.column for rule in rules(model)}),
    )


def references(column: str, table: str, key: str | None = None) -> gxe.UnexpectedRowsExpectation:
    """Every non-null `column` value exists in `table` (a dimension) as `key`."""
    key = key or column
    return _rows(
        sql.SQL("""
        select distinct t.{column}
        from (select * from {batch}) as t
        where t.{column} is not null
            and not exists (select 1 from {table} as d where d.{key} = t.{column})
        limit {limit}
        """).format(
            column=sql.Identifier(column),
            batch=BATCH,
            table=_table(table),
            key=sql.Identifier(key),
            limit=sql.Literal(PROBLEM_ROWS),
        ),
        f"referential integrity: {column} in {table}.{key}",
    )


def rows_where(
    condition: sql.Composable, key_columns: tuple[str, ...], description: str
) -> gxe.UnexpectedRowsExpectation:
    """Rows of the table (as `t`) for which `condition` holds are wrong; they are named by
    `key_columns`."""
    return _rows(
        sql.SQL(
            "select {keys} from (select * from {batch}) as t where {condition} limit {limit}"
        ).format(
            keys=sql.SQL(", ").join(sql.Identifier("t", c) for c in key_columns),
            batch=BATCH,
            condition=condition,
            limit=sql.Literal(PROBLEM_ROWS),
        ),
        description,
    )


# The latest downsample cutoff, as dbt's downsample_horizon() macro reads it.
DOWNSAMPLE_CUTOFF = sql.SQL("(select coalesce(max(cutoff), '-infinity') from raw.downsample_runs)")


def after_downsample_cutoff(
    column: str, key_columns: tuple[str, ...]
) -> gxe.UnexpectedRowsExpectation:
    """A detailed mart holds no row from before the latest downsample cutoff."""
    return rows_where(
        sql.SQL("{} < {}").format(sql.Identifier("t", column), DOWNSAMPLE_CUTOFF),
        key_columns,
        f"no row with {column} before the downsample cutoff",
    )


def daily_counts(
    date_column: str, count_column: str, source_table: str, source_time: str
) -> gxe.UnexpectedRowsExpectation:
    """A daily mart counts, on every UTC day, exactly the rows of the model it rolls up (which
    keeps every row, unlike the detailed mart that loses its old days)."""
    return _rows(
        sql.SQL("""
        with daily as (
            select t.{date_column} as day, sum(t.{count_column}) as daily_rows
            from (select * from {batch}) as t
            group by 1
        ),
        source as (
            select ({source_time} at time zone 'UTC')::date as day, count(*) as source_rows
            from {source_table}
            group by 1
        )
        select coalesce(daily.day, source.day) as day, daily.daily_rows, source.source_rows
        from daily
        full join source on source.day = daily.day
        where daily.daily_rows is distinct from source.source_rows
        limit {limit}
        """).format(
            date_column=sql.Identifier(date_column),
            count_column=sql.Identifier(count_column),
            batch=BATCH,
            source_time=sql.Identifier(source_time),
            source_table=_table(source_table),
            limit=sql.Literal(PROBLEM_ROWS),
        ),
        f"{count_column} per {date_column} equals the rows of {source_table} per UTC day",
    )
