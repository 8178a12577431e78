"""The price catalogue is written only when what the catalogue resolves differs from what the
warehouse holds: the dbt steps skip when their sources got no new rows
(orchestration/defs/dbt/step_inputs.py), and prices rewritten every run would always be new."""

from ingestion.core import partitions
from ingestion.core.connections import connect
from ingestion.core.raw_schema import ensure_raw_schema
from ingestion.prices import catalogue

NAMES = ["claude-sonnet-4-5-20250929", "gpt-4o"]


def _held(conn):
    return conn.execute(
        "select model_name, valid_from, input_per_mtok, resolved_at, xmin::text "
        "from raw.model_price_catalogue order by 1, 2"
    ).fetchall()


def test_the_same_prices_are_not_written_again(urls):
    with connect(urls.warehouse) as conn:
        ensure_raw_schema(conn)
        counts = catalogue.refresh(conn, NAMES)
        assert counts["models_priced"] == 2
        first = _held(conn)
        assert first
        catalogue.refresh(conn, NAMES)
        assert _held(conn) == first

        # A price that differs (a row edited by hand, or a newer catalogue) is replaced.
        conn.execute(
            "update raw.model_price_catalogue set input_per_mtok = input_per_mtok + 1 "
            "where model_name = 'gpt-4o'"
        )
        catalogue.refresh(conn, NAMES)
        again = _held(conn)
        assert [row[:3] for row in again] == [row[:3] for row in first]
        assert {row[4] for row in again if row[0] == "gpt-4o"}.isdisjoint({row[4] for row in first})
        # A name no longer resolved loses its rows; one that was not asked for keeps them.
        catalogue.refresh(conn, ["gpt-4o"])
        assert {row[0] for row in _held(conn)} == set(NAMES)


def test_logged_names_are_read_from_the_rows_written_since_the_last_reading(urls):
    """Each raw table is read for model names from where the last reading stopped: a name
    written since is found, a name seen once stays after its rows go (retention), and rows
    written before the mark are not read again (one planted under it stays unseen)."""
    with connect(urls.warehouse) as conn:
        ensure_raw_schema(conn)
        partitions.add_months(conn, "raw.collector_events")

        def event(source_id, model, loaded_ago="0"):
            conn.execute(
                "insert into raw.collector_events (source_id, host_id, session_id, event_type, "
                "agent_name, decision, latency_ms, created_at, model_name, _run_id, _loaded_at) "
                "values (%s, 'h', 's', 'agent_execution', 'a', 'SUCCESS', 1, now(), %s, 'r', "
                "now() - %s::interval)",
                (source_id, model, loaded_ago),
            )

        event(1, "gpt-4o")
        assert "gpt-4o" in catalogue.logged_model_names(conn)
        event(2, "claude-sonnet-4-5-20250929")
        event(3, "planted-before-the-mark", loaded_ago="10 days")
        conn.execute("delete from raw.collector_events where source_id = 1")
        names = catalogue.logged_model_names(conn)
        assert {"gpt-4o", "claude-sonnet-4-5-20250929"} <= names
        assert "planted-before-the-mark" not in names
