"""The days whose rows the windowed dbt tests read (macros/test_window.sql).

The staging views are the raw tables, cleaned: their tests scanned all of history in every
run. They now read the UTC days whose raw rows were written, changed or deleted since the tests
last passed (from the horizon taken then, expectations/windows.py), and every row when they never
passed or the run is a full validation. The marts step's singular tests that start from the
staging views (every staged session is analyzed) read those days too, and the days the calls
fact rebuilt since they last passed: a call's session can change with another day's calls.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from psycopg import sql

from expectations import windows
from ingestion.core import settings
from ingestion.core.connections import connect

VARIABLE = "ATW_DBT_TEST_DAYS"
# The watermark itself, for tests of rows rebuilt since (`where: __rebuilt_since__`).
PASSED_FROM = "ATW_DBT_TESTS_PASSED_FROM"
# Per incremental model, a later watermark where one is known (JSON object by model name): the
# horizon taken just after the model's build in the last step whose tests all passed. Without
# it, a step's tests read again every row the step before wrote (the step's own watermark is
# taken before it builds): after a first build, all of history.
PASSED_FROM_MODELS = "ATW_DBT_TESTS_PASSED_FROM_MODELS"
# Names this step's builds in intermediate.dbt_model_horizons (macros/test_window.sql).
STEP_ID = "ATW_DBT_STEP_ID"
# The margin of the horizon the models' post-hook takes: the checks' (expectations/windows.py).
MARGIN_HOURS = "ATW_DBT_HORIZON_MARGIN_HOURS"
WATERMARK = "dbt_staging_tests"
MART_WATERMARK = "dbt_mart_tests"
CALLS_WATERMARK = "dbt_calls_tests"
RAW_SOURCES = windows.days_of()
CALLS_FACT = "intermediate.int_agent_calls_unioned"


def _fact_days(conn, since) -> set:
    if conn.execute("select to_regclass(%s)", (CALLS_FACT,)).fetchone()[0] is None:
        return set()
    return {
        day
        for (day,) in conn.execute(
            sql.SQL("select distinct call_date from {} where rebuilt_at >= %s").format(
                sql.Identifier(*CALLS_FACT.split("."))
            ),
            (since,),
        )
    }


@contextmanager
def test_days(
    warehouse_url: str,
    full: bool,
    watermark: str = WATERMARK,
    with_fact: bool = False,
    whole_selection: bool = True,
) -> Iterator[dict[str, str]]:
    """The variable for the dbt process; when the body ends without an error (every test
    passed), `watermark` moves to the start of this validation. `with_fact`: the calls fact's
    rebuilt days count as changed too. A run of part of the step's selection
    (`whole_selection` false) leaves the watermark: the windowed tests it skipped have not
    read the days since."""
    step_id = str(uuid.uuid4())
    with connect(warehouse_url) as conn:
        started = windows.horizon(conn)
        mark = None if full else windows.watermark(conn, watermark)
        models = {}
        if mark is None:
            value = ""
        else:
            days = set(RAW_SOURCES.days(conn, mark))
            if with_fact:
                days |= _fact_days(conn, mark)
            value = ",".join(day.isoformat() for day in sorted(days)) or "none"
            models = {
                name: max(mark, since).isoformat()
                for name, since in _model_watermarks(conn, watermark).items()
            }
    yield {
        VARIABLE: value,
        PASSED_FROM: "" if mark is None else mark.isoformat(),
        PASSED_FROM_MODELS: json.dumps(models, sort_keys=True),
        STEP_ID: step_id,
        MARGIN_HOURS: str(settings.number("ATW_DQ_WINDOW_MARGIN_HOURS")),
    }
    if not whole_selection:
        return
    with connect(warehouse_url) as conn:
        scope = "table" if mark is None else "window"
        windows.passed(conn, watermark, started, scope)
        if conn.execute("select to_regclass(%s)", (MODEL_HORIZONS,)).fetchone()[0] is None:
            return
        for name, horizon in conn.execute(
            sql.SQL("select model_name, horizon from {} where step_id = %s").format(
                sql.Identifier(*MODEL_HORIZONS.split("."))
            ),
            (step_id,),
        ):
            windows.passed(conn, f"{watermark}{MODEL_SEPARATOR}{name}", horizon, scope)


MODEL_SEPARATOR = ":"
# Written by the models' post-hook (macros/test_window.sql, record_tested_horizon).
MODEL_HORIZONS = "intermediate.dbt_model_horizons"


def _model_watermarks(conn, watermark: str) -> dict:
    """The step's per-model watermarks, by model name."""
    prefix = f"{watermark}{MODEL_SEPARATOR}"
    return {
        name[len(prefix) :]: passed_from
        for name, passed_from in conn.execute(
            "select check_name, passed_from from ops.dq_watermarks "
            "where starts_with(check_name, %s)",
            (prefix,),
        )
    }
