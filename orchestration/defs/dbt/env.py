"""The environment dbt's profiles.yml reads, derived from the warehouse URL."""

from __future__ import annotations

from ingestion.core.connections import TRANSFORMER_ROLE, connect, target, usable_role


def transformer_role(warehouse_url: str) -> str:
    """atw_transformer once `atw roles` has made this login a member of it, else ''."""
    with connect(warehouse_url) as conn:
        return TRANSFORMER_ROLE if usable_role(conn, TRANSFORMER_ROLE) else ""


def dbt_env(warehouse_url: str) -> dict[str, str]:
    pg = target(warehouse_url)
    return {
        "ATW_PG_HOST": pg.host,
        "ATW_PG_PORT": str(pg.port),
        "ATW_PG_USER": pg.user,
        "ATW_PG_PASSWORD": pg.password,
        "ATW_PG_DBNAME": pg.dbname,
        "ATW_DBT_ROLE": transformer_role(warehouse_url),
        # libpq reads PGOPTIONS: every dbt session runs with TimeZone=UTC.
        "PGOPTIONS": "-c TimeZone=UTC",
    }
