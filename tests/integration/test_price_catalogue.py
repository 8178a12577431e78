"""The price catalogue is written only when what the catalogue resolves differs from what the
warehouse holds: the dbt steps skip when their sources got no new rows
(orchestration/defs/dbt/step_inputs.py), and prices rewritten every run would always be new."""

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
