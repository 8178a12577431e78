"""Great Expectations validations against the real warehouse leave no connection behind."""

import time

from expectations.runner import run_suite
from expectations.suites import SUITES
from ingestion.core.connections import connect
from ingestion.core.raw_schema import ensure_raw_schema

RAW_EVENTS = next(spec for spec in SUITES if spec.name == "raw_collector_events")


def _other_sessions(url: str, settle_seconds: float = 5.0) -> int:
    """Other sessions on the database. A backend whose client has closed leaves
    pg_stat_activity a moment later (longer on a loaded machine), so a count above zero is
    read again until it settles; a connection still held never does."""
    deadline = time.monotonic() + settle_seconds
    # Autocommit: within one transaction pg_stat_activity is read once and cached.
    with connect(url, autocommit=True) as conn:
        while True:
            count = conn.execute(
                "select count(*) from pg_stat_activity "
                "where datname = current_database() and pid <> pg_backend_pid()"
            ).fetchone()[0]
            if count == 0 or time.monotonic() > deadline:
                return count
            time.sleep(0.1)


def test_each_suite_closes_its_connections(urls):
    """An `atw run` validates some fifty suites in one process: GX's engines, left to the
    garbage collector, held dozens of idle connections and exhausted max_connections."""
    with connect(urls.warehouse) as conn:
        ensure_raw_schema(conn)
    outcomes = [run_suite(urls.warehouse, RAW_EVENTS) for _ in range(3)]
    outcomes.append(run_suite(urls.warehouse, RAW_EVENTS, blocking=False))
    assert all(outcome.evaluated for outcome in outcomes)
    assert _other_sessions(urls.warehouse) == 0
