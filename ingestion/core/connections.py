"""Connections to PostgreSQL: one place that pins the session time zone to UTC."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql


@dataclass(frozen=True)
class PgTarget:
    """The parts of a PostgreSQL URL that dbt's profile and psql need."""

    host: str
    port: int
    user: str
    password: str
    dbname: str


# The warehouse's roles, named once (warehouse/sql/roles.sql creates them under these names).
LOADER_ROLE = "atw_loader"  # owns raw and ops: the loaders write as this role
TRANSFORMER_ROLE = "atw_transformer"  # owns staging, intermediate, marts: dbt builds as it
ANALYST_ROLE = "analyst"  # reads the marts


def libpq_url(url: str) -> str:
    """Accept SQLAlchemy-style URLs (`postgresql+psycopg://`) as well as libpq ones."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme not in ("postgresql", "postgres"):
        raise ValueError(
            f"unsupported database URL scheme {parts.scheme!r}: expected postgresql://"
        )
    return urlunsplit(("postgresql",) + tuple(parts)[1:])


def sqlalchemy_url(url: str) -> str:
    return "postgresql+psycopg://" + libpq_url(url).split("://", 1)[1]


def redact(url: str) -> str:
    """The URL with its password replaced, safe to print or log."""
    parts = urlsplit(url)
    if parts.password is None:
        query = [(k, "***" if k == "password" else v) for k, v in parse_qsl(parts.query)]
        return urlunsplit(parts._replace(query=urlencode(query, safe="/")))
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def target(url: str) -> PgTarget:
    """Split a URL into host/port/user/password/dbname; a socket directory counts as host."""
    parts = urlsplit(libpq_url(url))
    query = dict(parse_qsl(parts.query))
    host = query.get("host") or parts.hostname or "localhost"
    return PgTarget(
        host=host,
        port=int(query.get("port") or parts.port or 5432),
        user=unquote(query.get("user") or parts.username or "postgres"),
        password=unquote(query.get("password") or parts.password or ""),
        dbname=unquote(parts.path.lstrip("/") or query.get("dbname") or "postgres"),
    )


def with_database(url: str, dbname: str) -> str:
    parts = urlsplit(libpq_url(url))
    return urlunsplit(parts._replace(path="/" + dbname))


def connect(url: str, **kwargs) -> psycopg.Connection:
    """A psycopg connection whose session time zone is UTC, whatever the server default."""
    return psycopg.connect(libpq_url(url), options="-c TimeZone=UTC", **kwargs)


def connect_like(conn: psycopg.Connection) -> psycopg.Connection:
    """A second connection with `conn`'s parameters (its password too), session time zone UTC,
    to the very server `conn` reached (of a URL that lists several hosts)."""
    info = conn.info
    server = {"host": info.host, "port": info.port}
    if info.hostaddr:
        server["hostaddr"] = info.hostaddr
    return psycopg.connect(info.dsn, password=info.password, options="-c TimeZone=UTC", **server)


def usable_role(conn: psycopg.Connection, role: str) -> bool:
    """Whether this login may act as `role` (`set role`) here: the role exists, the login is a
    member, and `atw roles` has set it up in this database (roles are cluster-wide; the grant
    of CREATE on the database is per database)."""
    row = conn.execute(
        "select pg_has_role(current_user, oid, 'member') "
        "and has_database_privilege(oid, current_database(), 'create') "
        "from pg_roles where rolname = %s",
        (role,),
    ).fetchone()
    return bool(row and row[0])


@contextmanager
def acting_as(conn: psycopg.Connection, role: str) -> Iterator[None]:
    """Inside the caller's transaction, act as `role` where `usable_role` says so, then as
    before. `set local` would outlive the block when the transaction encloses more; on an
    error the transaction's rollback undoes it."""
    if not usable_role(conn, role):
        yield
        return
    previous = conn.execute("select current_setting('role')").fetchone()[0]
    conn.execute(sql.SQL("set local role {}").format(sql.Identifier(role)))
    yield
    conn.execute("select set_config('role', %s, true)", (previous,))
