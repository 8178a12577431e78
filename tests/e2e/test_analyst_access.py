"""`atw roles`: who owns what, what an analyst login can and cannot read, and row-level security
per tenant, all checked by connecting as real non-owner logins."""

import json
import uuid

import psycopg
import pytest
from psycopg import sql

from ingestion.core.connections import connect
from ingestion.core.settings import DBT_PROJECT_DIR
from tests.conftest import login_url
from warehouse.roles import add_analyst, set_row_level_security, setup_roles

SCHEMA_OWNERS = {
    "raw": "atw_loader",
    "ops": "atw_loader",
    "staging": "atw_transformer",
    "intermediate": "atw_transformer",
    "marts": "atw_transformer",
    "reference": "atw_transformer",
}
# What an analyst must never read: raw rows, transcript text (raw and staged), quarantine,
# load bookkeeping and check results, the layers between raw and the marts.
FORBIDDEN = (
    "raw.collector_events",
    "raw.collector_transcript_messages",
    "raw.quarantine",
    "raw.claude_code_lines",
    "raw.load_log",
    "staging.stg_collector__transcript_messages",
    "staging.stg_collector__telemetry_events",
    "intermediate.int_agent_calls_unioned",
    "reference.model_prices",
    "ops.dq_validation_results",
    "ops.analyst_tenants",
    "ops.alert_notifications",
)


def _relations(url, schema, kinds=("r", "p", "v")):
    with connect(url) as conn:
        return [
            r[0]
            for r in conn.execute(
                "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                "where n.nspname = %s and c.relkind = any(%s) order by 1",
                (schema, list(kinds)),
            )
        ]


def _analyst(url, tenants=None) -> str:
    name = f"analyst_{uuid.uuid4().hex[:8]}"
    with connect(url) as conn:
        add_analyst(conn, name, tenants)
    return name


def _count(url, login, query, params=None):
    with connect(login_url(url, login)) as conn:
        return conn.execute(query, params).fetchone()[0]


@pytest.fixture
def row_level_security(secured_warehouse):
    """Row-level security on for one test, off again afterwards."""
    with connect(secured_warehouse.warehouse) as conn:
        set_row_level_security(conn, True)
    yield secured_warehouse
    with connect(secured_warehouse.warehouse) as conn:
        set_row_level_security(conn, False)


def test_each_schema_and_everything_in_it_belongs_to_its_role(secured_warehouse):
    with connect(secured_warehouse.warehouse) as conn:
        rows = conn.execute(
            "select n.nspname, pg_get_userbyid(n.nspowner), c.relname, "
            "pg_get_userbyid(c.relowner) from pg_namespace n "
            "left join pg_class c on c.relnamespace = n.oid and c.relkind in ('r', 'v', 'S') "
            "where n.nspname = any(%s)",
            (list(SCHEMA_OWNERS),),
        ).fetchall()
    assert {r[0] for r in rows} == set(SCHEMA_OWNERS)
    wrong = [
        (schema, table, owner)
        for schema, schema_owner, table, owner in rows
        if schema_owner != SCHEMA_OWNERS[schema]
        or (table is not None and owner != SCHEMA_OWNERS[schema])
    ]
    # dbt built every model as atw_transformer, the loaders created raw as atw_loader.
    assert wrong == []
    assert "fct_session_summaries" in _relations(secured_warehouse.warehouse, "marts")


def test_an_analyst_reads_every_mart_and_function_and_nothing_else(secured_warehouse):
    url = secured_warehouse.warehouse
    login = _analyst(url)
    marts = _relations(url, "marts")
    assert len(marts) >= 16
    with connect(login_url(url, login)) as conn:
        for mart in marts:
            conn.execute(sql.SQL("select * from {} limit 1").format(sql.Identifier("marts", mart)))
        assert conn.execute("select count(*) from marts.token_trend(null, 30)").fetchone()[0] == 30
        assert conn.execute("select count(*) from marts.activity_heatmap()").fetchone()[0] > 0
        conn.execute("select * from marts.agent_usage()")
        inbox = conn.execute("select count(*) from marts.alert_inbox").fetchone()[0]
    assert inbox == _count(url, "postgres", "select count(*) from marts.fct_alerts") > 0
    for table in FORBIDDEN:
        with (
            connect(login_url(url, login)) as conn,
            pytest.raises(psycopg.errors.InsufficientPrivilege),
        ):
            conn.execute(
                sql.SQL("select 1 from {} limit 1").format(sql.Identifier(*table.split(".")))
            )
    with (
        connect(login_url(url, login)) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute("create table marts.mine (x int)")


def _project_views() -> set[str]:
    """schema.name of every model dbt builds as a view (from its manifest)."""
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    return {
        f"{node['schema']}.{node['alias']}"
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"]["materialized"] == "view"
    }


def test_no_view_lends_its_owners_rights(secured_warehouse, dbt_manifest):
    url = secured_warehouse.warehouse
    with connect(url) as conn:
        views = conn.execute(
            "select n.nspname || '.' || c.relname, coalesce(c.reloptions, '{}') "
            "from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where c.relkind = 'v' and n.nspname = any(%s)",
            (list(SCHEMA_OWNERS),),
        ).fetchall()
    # Every view the project builds is there (six at least: the staging views and the inbox).
    expected = _project_views()
    assert len(expected) >= 6 and expected <= {name for name, _ in views}
    assert [name for name, options in views if "security_invoker=true" not in options] == []
    # Even granted a staging view directly, an analyst still cannot read the raw text under it.
    login = _analyst(url)
    with connect(url) as conn:
        conn.execute("grant usage on schema staging to analyst")
        conn.execute("grant select on staging.stg_collector__transcript_messages to analyst")
        conn.commit()
    try:
        with (
            connect(login_url(url, login)) as conn,
            pytest.raises(
                psycopg.errors.InsufficientPrivilege, match="table collector_transcript_messages"
            ),
        ):
            conn.execute("select * from staging.stg_collector__transcript_messages limit 1")
    finally:
        with connect(url) as conn:
            conn.execute("revoke all on staging.stg_collector__transcript_messages from analyst")
            conn.execute("revoke usage on schema staging from analyst")


def test_row_level_security_scopes_an_analyst_to_its_tenants(row_level_security):
    url = row_level_security.warehouse
    with connect(url) as conn:
        tenants = [
            r[0]
            for r in conn.execute(
                "select tenant_id from marts.fct_daily_token_trends group by 1 "
                "order by sum(total_tokens) desc limit 2"
            )
        ]
        tenanted = [
            r[0]
            for r in conn.execute(
                "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                "join pg_attribute a on a.attrelid = c.oid and a.attname = 'tenant_id' "
                "where n.nspname = 'marts' and c.relkind = 'r'"
            )
        ]
    assert len(tenanted) >= 8
    mine, other = tenants
    login = _analyst(url, [mine])
    for table in tenanted:
        seen = _count(
            url,
            login,
            sql.SQL("select array_agg(distinct tenant_id) from {}").format(
                sql.Identifier("marts", table)
            ),
        )
        assert seen in (None, [mine]), table
    assert _count(url, login, "select count(*) from marts.fct_daily_token_trends") == _count(
        url,
        "postgres",
        "select count(*) from marts.fct_daily_token_trends where tenant_id = %s",
        (mine,),
    )
    # Marts with no tenant column are cross-tenant: hidden from a scoped analyst.
    assert _count(url, login, "select count(*) from marts.dim_agents") == 0
    # The SQL functions run with the caller's rights, so they are scoped too.
    assert (
        _count(url, login, "select sum(total_tokens) from marts.token_trend(%s, 90)", (other,)) == 0
    )
    assert _count(
        url, login, "select sum(total_tokens) from marts.token_trend(null, 90)"
    ) == _count(url, "postgres", "select sum(total_tokens) from marts.token_trend(%s, 90)", (mine,))
    # The inbox and its acknowledgements follow the alerts' tenants.
    assert _count(url, login, "select count(distinct tenant_id) from marts.alert_inbox") <= 1
    assert _count(url, _analyst(url, []), "select count(*) from marts.fct_alerts") == 0
    with connect(url) as conn:
        set_row_level_security(conn, False)
    assert _count(url, login, "select count(*) from marts.dim_agents") > 0


def test_policies_survive_a_rebuild_of_the_marts(row_level_security):
    from orchestration.defs.dbt.manifest import run_dbt

    url = row_level_security.warehouse
    login = _analyst(url, ["no-such-tenant"])
    run_dbt(url, ["run", "--quiet", "--select", "marts"], "target/test-access", check=True)
    with connect(url) as conn:
        unprotected = conn.execute(
            "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = 'marts' and c.relkind = 'r' and not c.relrowsecurity"
        ).fetchall()
    assert unprotected == []
    assert _count(url, login, "select count(*) from marts.fct_session_summaries") == 0
    assert _count(url, _analyst(url), "select count(*) from marts.fct_session_summaries") == 0
    with connect(url) as conn:
        set_row_level_security(conn, False)
    assert _count(url, login, "select count(*) from marts.fct_session_summaries") > 0


def test_the_loader_login_loads_raw_but_reads_no_marts(secured_warehouse, tmp_path, monkeypatch):
    from ingestion.all_sources import load_all_sources
    from ingestion.core.settings import Urls

    monkeypatch.setenv("ATW_LANDING_DIR", str(tmp_path))
    monkeypatch.delenv("ATW_CLAUDE_PROJECTS_DIR", raising=False)
    url = secured_warehouse.warehouse
    name = f"loader_{uuid.uuid4().hex[:8]}"
    with connect(url) as conn:
        conn.execute(
            sql.SQL("create role {} login in role atw_loader").format(sql.Identifier(name))
        )
        conn.commit()
    loader = Urls(warehouse=login_url(url, name), collector=secured_warehouse.collector)
    counts = list(load_all_sources(loader, f"test-{uuid.uuid4()}"))
    assert counts and all(
        c.rows_read == c.rows_loaded + c.rows_quarantined + c.rows_skipped_duplicate for c in counts
    )
    with connect(loader.warehouse) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("select 1 from marts.fct_session_summaries")


def test_setting_up_roles_twice_changes_nothing(secured_warehouse):
    url = secured_warehouse.warehouse
    query = (
        "select n.nspname, c.relname, pg_get_userbyid(c.relowner), c.relacl::text "
        "from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = any(%s) order by 1, 2"
    )
    with connect(url) as conn:
        before = conn.execute(query, (list(SCHEMA_OWNERS),)).fetchall()
        setup_roles(conn)
        assert conn.execute(query, (list(SCHEMA_OWNERS),)).fetchall() == before
