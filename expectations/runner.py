"""Run a suite against the warehouse with GX Core 1.x and boil the result down for Dagster."""

from __future__ import annotations

import os
import threading
import warnings
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit, urlunsplit

from psycopg import sql

from expectations.suites import SuiteSpec
from ingestion.core.connections import sqlalchemy_url

MAX_FAILING_KEYS = 5


@dataclass
class ExpectationOutcome:
    expectation: str
    column: str | None
    success: bool
    observed_value: object
    failing_keys: list = field(default_factory=list)
    description: str | None = None


@dataclass
class SuiteOutcome:
    suite: str
    success: bool
    evaluated: int
    failed: list[ExpectationOutcome]
    outcomes: list[ExpectationOutcome]


def _gx_connection_string(url: str) -> str:
    """SQLAlchemy URL for GX, with the session time zone pinned to UTC."""
    parts = urlsplit(sqlalchemy_url(url))
    query = parts.query + ("&" if parts.query else "") + urlencode({"options": "-c TimeZone=UTC"})
    return urlunsplit(parts._replace(query=query))


def _column_of(config) -> str | None:
    kwargs = config.kwargs
    if "column" in kwargs:
        return kwargs["column"]
    if "column_list" in kwargs:
        return ",".join(kwargs["column_list"])
    if "column_A" in kwargs:
        return f"{kwargs['column_A']},{kwargs['column_B']}"
    return None


def _failing_keys(result: dict, key_columns: tuple[str, ...]) -> list:
    """Up to five failing rows, identified by their key columns only (the SQL rules select
    nothing else)."""
    unexpected_rows = (result.get("details") or {}).get("unexpected_rows")
    if unexpected_rows is not None:
        return [
            {k: str(v) for k, v in dict(row).items()} for row in unexpected_rows[:MAX_FAILING_KEYS]
        ]
    rows = result.get("unexpected_index_list") or []
    keys = []
    for row in rows[:MAX_FAILING_KEYS]:
        if isinstance(row, dict):
            keys.append({k: str(row.get(k)) for k in key_columns if k in row})
        else:
            keys.append(str(row))
    return keys


def _error(item) -> str | None:
    """The first line of the exception an expectation raised (a broken query, say)."""
    info = item.exception_info or {}
    candidates = [info] if "raised_exception" in info else list(info.values())
    for candidate in candidates:
        if isinstance(candidate, dict) and (
            candidate.get("exception_message") or candidate.get("exception_traceback")
        ):
            text = candidate.get("exception_message") or candidate["exception_traceback"]
            lines = [line for line in str(text).splitlines() if "Error" in line]
            return (lines[0] if lines else str(text).splitlines()[-1]).strip()[:300]
    return None


def _observed(result: dict):
    if "observed_value" in result:
        return result["observed_value"]
    if "unexpected_count" in result:
        return {
            "unexpected_count": result.get("unexpected_count"),
            "unexpected_percent": result.get("unexpected_percent"),
        }
    return None


# One GX context and datasource per warehouse and process, built on first use: building them
# took a quarter of a small suite's validation, and a run validates some fifty.
_sources: dict[str, tuple] = {}
_lock = threading.Lock()


def _source(connection_string: str):
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    if connection_string not in _sources:
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(
            globally=False, metric_calculations=False
        )
        source = context.data_sources.add_sql(name="warehouse", connection_string=connection_string)
        _sources[connection_string] = (context, source)
    return _sources[connection_string]


def _query(spec: SuiteSpec, where: sql.Composable) -> str:
    return (
        sql.SQL("select * from {} as t where {}")
        .format(sql.Identifier(spec.schema, spec.table), where)
        .as_string()
    )


def run_suite(
    warehouse_url: str,
    spec: SuiteSpec,
    blocking: bool = True,
    where: sql.Composable | None = None,
) -> SuiteOutcome:
    """Validate the blocking or the warning half of `spec` against the table's rows for which
    `where` (a condition on the table as `t`) holds, or against all of them."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    # The generic SQL datasource is deliberate: add_postgres rejects socket-only URLs.
    warnings.filterwarnings("ignore", message="You are using a generic SQLDatasource")
    name = f"{spec.name}__{'blocking' if blocking else 'warnings'}"
    with _lock:
        context, source = _source(_gx_connection_string(warehouse_url))
        if where is None:
            asset = source.add_table_asset(
                name=name, table_name=spec.table, schema_name=spec.schema
            )
        else:
            asset = source.add_query_asset(name=name, query=_query(spec, where))
        suite = context.suites.add(
            gx.ExpectationSuite(name=name, expectations=spec.expectations(blocking))
        )
        try:
            batch = asset.add_batch_definition_whole_table("rows").get_batch()
            # Counts first: the failing rows' keys take GX more queries per rule (each a scan
            # of the table), which only a failed suite needs. It is then validated again.
            result = batch.validate(suite, result_format={"result_format": "BASIC"})
            if not result.success:
                result = batch.validate(
                    suite,
                    result_format={
                        "result_format": "COMPLETE",
                        "unexpected_index_column_names": list(spec.key_columns),
                        "partial_unexpected_count": MAX_FAILING_KEYS,
                        "return_unexpected_index_query": False,
                    },
                )
        finally:
            context.suites.delete(name)
            source.delete_asset(name)
            # Their pooled connections would stay open between validations (dozens against
            # max_connections, and a database that cannot be dropped); both engines stay
            # usable, with a new pool.
            source.get_execution_engine().close()
            source.get_engine().dispose()
    outcomes = []
    for item in result.results:
        config = item.expectation_config
        details = item.result or {}
        error = None if item.success else _error(item)
        outcomes.append(
            ExpectationOutcome(
                expectation=config.type,
                column=_column_of(config),
                success=bool(item.success),
                observed_value={"error": error} if error else _observed(details),
                failing_keys=[] if item.success else _failing_keys(details, spec.key_columns),
                description=config.description,
            )
        )
    failed = [o for o in outcomes if not o.success]
    return SuiteOutcome(
        suite=spec.name,
        success=bool(result.success),
        evaluated=len(outcomes),
        failed=failed,
        outcomes=outcomes,
    )
