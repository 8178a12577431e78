"""The warehouse's roles (`atw roles`): who owns, writes and reads what. See sql/roles.sql."""

from __future__ import annotations

import re
from importlib import resources

import psycopg
from psycopg import sql

from ingestion.core.connections import ANALYST_ROLE as ANALYST
from ingestion.core.connections import LOADER_ROLE as LOADER
from ingestion.core.connections import TRANSFORMER_ROLE as TRANSFORMER
from ingestion.core.raw_schema import ensure_raw_schema

# Marks the logins `atw roles --analyst` created: the only ones it will change.
ANALYST_LOGIN_COMMENT = "analyst login created by atw roles"
# Serialises `atw roles` with itself and with the loaders' DDL.
_ROLES_LOCK = 0x61747702
_LOGIN_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def setup_roles(conn: psycopg.Connection) -> None:
    """Create the roles, hand every object to its schema's role, grant, and apply row-level
    security to the marts that exist. Needs a superuser or a login with CREATEROLE that owns
    the schemas."""
    ensure_raw_schema(conn)
    script = resources.files("warehouse").joinpath("sql/roles.sql").read_text()
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (_ROLES_LOCK,))
        conn.execute(script)


def set_row_level_security(conn: psycopg.Connection, enabled: bool) -> None:
    """Switch tenant scoping of analysts on or off; takes effect at once, no rebuild."""
    with conn.transaction():
        updated = conn.execute(
            "update ops.access_settings set enabled = %s, changed_at = now() "
            "where setting = 'row_level_security'",
            (enabled,),
        ).rowcount
    if not updated:
        raise RuntimeError("the roles are not set up yet: run `atw roles` first")


def add_analyst(
    conn: psycopg.Connection,
    name: str,
    tenants: list[str] | None = None,
    password: str | None = None,
) -> None:
    """Create (or update) a login in the analyst role. With `tenants`, the login's tenant list
    is replaced by them (seen while row-level security is on); without, it is left alone."""
    if not _LOGIN_NAME.fullmatch(name):
        raise ValueError(
            f"login name {name!r}: use lowercase letters, digits and _ "
            "(at most 63, not starting with a digit)"
        )
    if name in (LOADER, TRANSFORMER, ANALYST):
        raise ValueError(f"{name!r} is one of the project's own roles")
    ready = conn.execute(
        "select to_regclass('ops.analyst_tenants') is not null "
        "and exists (select 1 from pg_roles where rolname = %s)",
        (ANALYST,),
    ).fetchone()[0]
    if not ready:
        raise RuntimeError("the analyst role does not exist yet: run `atw roles` first")
    login = sql.Identifier(name)
    with conn.transaction():
        # Ours: marked when created, or (made before the mark existed) already an analyst.
        exists = conn.execute(
            "select shobj_description(oid, 'pg_authid') is not distinct from %s "
            "or pg_has_role(oid, %s, 'member') from pg_roles where rolname = %s",
            (ANALYST_LOGIN_COMMENT, ANALYST, name),
        ).fetchone()
        if exists and not exists[0]:
            raise ValueError(
                f"a role named {name!r} already exists and was not created by "
                "`atw roles --analyst`: choose another name (its password and "
                "grants are left as they are)"
            )
        if not exists:
            conn.execute(sql.SQL("create role {} login").format(login))
        conn.execute(
            sql.SQL("comment on role {} is {}").format(login, sql.Literal(ANALYST_LOGIN_COMMENT))
        )
        conn.execute(sql.SQL("grant {} to {}").format(sql.Identifier(ANALYST), login))
        if password is not None:
            conn.execute(sql.SQL("alter role {} password {}").format(login, sql.Literal(password)))
        if tenants is not None:
            conn.execute("delete from ops.analyst_tenants where role_name = %s", (name,))
            for tenant in sorted(set(tenants)):
                conn.execute(
                    "insert into ops.analyst_tenants (role_name, tenant_id) values (%s, %s)",
                    (name, tenant),
                )
