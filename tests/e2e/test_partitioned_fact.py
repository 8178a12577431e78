"""The calls fact is partitioned by month of `call_date` (macros/partitioned_tables.sql): after
a first build, a full refresh and an upgrade from a table an older release built whole, with
the same rows and indexes, and every partition named after the model."""

from psycopg import sql

from ingestion.core.connections import connect
from orchestration.defs.dbt.manifest import run_dbt

FACT = "intermediate.int_agent_calls_unioned"


def _q(query: str) -> sql.Composed:
    """`query` with the fact as {fact}, its default partition as {default}."""
    return sql.SQL(query).format(
        fact=sql.Identifier("intermediate", "int_agent_calls_unioned"),
        default=sql.Identifier("intermediate", "int_agent_calls_unioned_default"),
    )


def _state(url: str) -> dict:
    with connect(url) as conn:
        return {
            "relkind": conn.execute(
                "select relkind from pg_class where oid = %s::regclass", (FACT,)
            ).fetchone()[0],
            "partitions": [
                name
                for (name,) in conn.execute(
                    "select c.relname from pg_inherits as i "
                    "join pg_class as c on c.oid = i.inhrelid "
                    "where i.inhparent = %s::regclass order by 1",
                    (FACT,),
                )
            ],
            "months": [
                f"int_agent_calls_unioned_p{month}"
                for (month,) in conn.execute(
                    _q("select distinct to_char(call_date, 'YYYY_MM') from {fact} order by 1")
                )
            ],
            "in_default": conn.execute(_q("select count(*) from {default}")).fetchone()[0]
            if conn.execute("select to_regclass(%s)", (f"{FACT}_default",)).fetchone()[0]
            else None,
            "rows": conn.execute(
                _q(
                    "select count(*), md5(string_agg((to_jsonb(t) - 'rebuilt_at')::text, '' "
                    "order by call_id)) from {fact} as t"
                )
            ).fetchone(),
            "indexes": sorted(
                definition.split(" USING ")[1]
                for (definition,) in conn.execute(
                    "select pg_get_indexdef(indexrelid) from pg_index "
                    "where indrelid = %s::regclass",
                    (FACT,),
                )
            ),
            "trigger": conn.execute(
                "select count(*) from pg_trigger where tgrelid = %s::regclass "
                "and tgname = 'stamp_edited_rows'",
                (FACT,),
            ).fetchone()[0],
        }


def _expect_partitioned(state: dict) -> None:
    assert state["relkind"] == "p"
    assert state["partitions"] == ["int_agent_calls_unioned_default", *state["months"]]
    assert state["in_default"] == 0
    assert state["trigger"] == 1


def test_the_calls_fact_stays_partitioned_by_month(secured_clone):
    url = secured_clone.warehouse
    built = _state(url)
    _expect_partitioned(built)
    assert built["rows"][0] > 1000 and len(built["indexes"]) == 6  # call_id: the key test

    # A full refresh builds under dbt's temporary name; its partitions then take the model's.
    run_dbt(
        url,
        ["run", "--quiet", "--full-refresh", "--select", "int_agent_calls_unioned"],
        "target/test-partitioned-fact",
        check=True,
    )
    refreshed = _state(url)
    _expect_partitioned(refreshed)
    assert refreshed["rows"] == built["rows"] and refreshed["indexes"] == built["indexes"]

    # The table an older release built, one table with dbt's indexes: the next incremental
    # build partitions it in place.
    with connect(url) as conn:
        owner = conn.execute(
            "select tableowner from pg_tables where schemaname = 'intermediate' "
            "and tablename = 'int_agent_calls_unioned'"
        ).fetchone()[0]
        conn.execute(sql.SQL("set role {}").format(sql.Identifier(owner)))
        conn.execute("""
            create table intermediate.whole (
                like intermediate.int_agent_calls_unioned including defaults including indexes
            );
            insert into intermediate.whole select * from intermediate.int_agent_calls_unioned;
            drop table intermediate.int_agent_calls_unioned;
            alter table intermediate.whole rename to int_agent_calls_unioned;
        """)
    assert _state(url)["relkind"] == "r"
    run_dbt(
        url,
        ["run", "--quiet", "--select", "int_agent_calls_unioned"],
        "target/test-partitioned-fact",
        check=True,
    )
    upgraded = _state(url)
    _expect_partitioned(upgraded)
    assert upgraded["rows"] == built["rows"] and upgraded["indexes"] == built["indexes"]
