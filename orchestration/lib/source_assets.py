"""What every source asset shares: retries, errors that cannot heal, skipping an unconfigured
source, and the load counts as metadata."""

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import psycopg

from ingestion.core import reconciliation, settings
from ingestion.core.connections import connect
from ingestion.core.load_log import LoadCounts
from ingestion.core.raw_schema import ensure_raw_schema

# Source reads can fail on a flaky network; a few spaced retries heal that.
SOURCE_RETRY = dg.RetryPolicy(max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL)
# Invalid authorization (class 28) and a missing database (3D000) do not heal by waiting.
# A missing table (42P01: ATW_COLLECTOR_URL names a database that is not a collector's) neither.
_HOPELESS_STATES = ("28000", "28P01", "3D000", "42P01")


def _is_hopeless(error: psycopg.Error) -> bool:
    if error.sqlstate in _HOPELESS_STATES:
        return True
    # A failed connection attempt carries no SQLSTATE, only the server's message.
    message = str(error)
    return "password authentication failed" in message or (
        "does not exist" in message and ("role " in message or "database " in message)
    )


@contextmanager
def source_errors() -> Iterator[None]:
    """Errors that cannot heal fail at once; the rest go to the asset's RetryPolicy."""
    try:
        yield
    except psycopg.Error as error:
        if _is_hopeless(error):
            raise dg.Failure(
                description=f"Not retried, fix the configuration: {error}".strip(),
                allow_retries=False,
            ) from error
        raise


# A run so tagged compares every day and file with its source (`atw run --reconcile-all`).
RECONCILE_TAG = "atw/reconcile"
RECONCILE_ALL = "all"


def reconciles_everything(context: dg.AssetExecutionContext, warehouse, *sources: str) -> bool:
    """Micro-batches reconcile the days and files they read. So do the other runs (the nightly
    `everything`, `atw run`), and every day inside retention and every file when one of
    `sources` was last compared whole more than ATW_RECONCILE_ALL_HOURS (a week) ago; a
    backfill, or a run tagged `atw/reconcile: all`, always."""
    if context.run.job_name == "micro_batch":
        return False
    if context.run.job_name == "backfill" or context.run.tags.get(RECONCILE_TAG) == RECONCILE_ALL:
        return True
    return reconciliation.whole_due(warehouse, sources)


def load_metadata(counts) -> dict:
    return {
        name: dg.MetadataValue.int(value)
        for name, value in counts.as_dict().items()
        if name != "source"
    }


def skip_reason(context: dg.AssetExecutionContext, urls, source: str) -> str | None:
    """Why `source` is not configured (logged once), or None when it is."""
    reason = settings.skipped_sources(urls).get(source)
    if reason:
        context.log.info(f"skipped: {reason}")
        with connect(urls.warehouse) as warehouse:
            ensure_raw_schema(warehouse)  # dbt's sources exist even when no source is read
    return reason


def skipped_metadata(reason: str, source: str) -> dict:
    return {**load_metadata(LoadCounts(source)), "skipped": reason}
