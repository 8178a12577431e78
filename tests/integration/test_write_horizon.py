"""raw.write_horizon against a real PostgreSQL: it waits for the oldest transaction it can see,
falls back to the margin only when another login's session is hidden from it, and is never
widened by a session it can see that has no transaction."""

import time
import uuid
from datetime import timedelta

import pytest
from psycopg import sql

from ingestion.core import watermarks
from ingestion.core.connections import connect
from ingestion.core.raw_schema import ensure_raw_schema
from tests.conftest import login_url

MARGIN_HOURS = 6


@pytest.fixture
def warehouse(urls) -> str:
    with connect(urls.warehouse) as conn:
        ensure_raw_schema(conn)
    return urls.warehouse


def _horizon_lag(conn) -> timedelta:
    """How far before this transaction's start the horizon is."""
    horizon = watermarks.write_horizon(conn, MARGIN_HOURS)
    return conn.execute("select now()").fetchone()[0] - horizon


def _login(url: str, name: str) -> str:
    with connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("create role {} login").format(sql.Identifier(name)))
        conn.execute(sql.SQL("grant usage on schema raw to {}").format(sql.Identifier(name)))
    return login_url(url, name)


def _until_no_hidden_session(conn) -> None:
    """Wait for the sessions of other logins that this one cannot see into (a connection
    just closed may still be listed) to leave."""
    for _ in range(100):
        hidden = conn.execute(
            "select count(*) from pg_stat_activity where datname = current_database() "
            "and pid <> pg_backend_pid() and not pg_has_role(usesysid, 'usage')"
        ).fetchone()[0]
        conn.rollback()
        if not hidden:
            return
        time.sleep(0.05)
    raise AssertionError("another login's session stayed open")


def test_idle_sessions_leave_the_horizon_at_now(warehouse):
    with connect(warehouse) as _idle, connect(warehouse) as conn:
        assert _horizon_lag(conn) == timedelta(0)


def test_an_open_transaction_holds_the_horizon_at_its_start(warehouse):
    with connect(warehouse) as writer, connect(warehouse) as conn:
        begun = writer.execute("select now()").fetchone()[0]
        writer.execute("select pg_sleep(0.1)")
        assert watermarks.write_horizon(conn, MARGIN_HOURS) == begun


def test_a_session_this_role_cannot_see_into_takes_the_margin(warehouse):
    """Without pg_read_all_stats another login's transaction start reads null: the horizon
    cannot know it and goes back the whole margin; its own login's sessions it can see."""
    reader = _login(warehouse, f"horizon_reader_{uuid.uuid4().hex[:8]}")
    with connect(reader) as _own_session, connect(reader) as conn:
        _until_no_hidden_session(conn)
        assert _horizon_lag(conn) == timedelta(0)
    with connect(warehouse) as _hidden, connect(reader) as conn:
        assert _horizon_lag(conn) == timedelta(hours=MARGIN_HOURS)
