"""Each stage's blocking GX check stops what is downstream of it in the same run.

A copy of the shared build is the good state; each test then corrupts one stage on purpose,
shows that its blocking check fails, that nothing downstream of it materialized, and that the
marts kept their last good state, and finally undoes the corruption.
"""

import json
import re

import dagster as dg
import pytest
from dagster import DagsterInstance
from psycopg import sql
from psycopg.types.json import Jsonb

from expectations.suites import SUITES
from ingestion.core.connections import connect
from ingestion.core.settings import DBT_PROJECT_DIR
from orchestration.cli import run_pipeline
from orchestration.definitions import ASSET_CHECKS, ASSETS, defs
from tests.conftest import clone_build, table_checksum

MARTS = {
    "marts.fct_session_summaries": "t.session_key",
    "marts.fct_daily_token_trends": "t.usage_date, t.tenant_id, t.source_system",
    "marts.fct_alerts": "t.alert_id",
}


def _materialized(result) -> set[str]:
    return {
        e.asset_key.to_user_string()
        for e in result.all_events
        if e.event_type_value == "ASSET_MATERIALIZATION"
    }


def _evaluation(result, name):
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if evaluation.check_name == name:
                return evaluation
    raise AssertionError(f"check {name} did not run")


def _failures(evaluation) -> dict[str, list]:
    """Failing expectation (or rule) → its failing keys, from the check's metadata."""
    metadata = evaluation.metadata
    found = {}
    for key in metadata:
        if key.endswith("_expectation"):
            prefix = key.removesuffix("_expectation")
            rule = metadata[f"{prefix}_rule"].value or metadata[key].value
            found[rule] = metadata[f"{prefix}_failing_keys"].value
    return found


def _marts(url) -> dict:
    return {table: table_checksum(url, table, order) for table, order in MARTS.items()}


@pytest.fixture(scope="module")
def built(secured_build, pg_base_url, tmp_path_factory, dbt_manifest):
    """A copy of the shared secured build (every source, the roles set up), for the module's
    tests to corrupt one stage at a time."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        urls = clone_build(secured_build, pg_base_url, monkeypatch)
        monkeypatch.setenv("ATW_REPORT_PATH", str(tmp_path_factory.mktemp("r") / "r.html"))
        # No margin for late loads: rows loaded minutes ago must not make every day look new.
        monkeypatch.setenv("ATW_DBT_VARS", '{"incremental_loaded_at_margin_hours": 0}')
        yield urls, DagsterInstance.ephemeral()


def test_results_are_stored_for_analysts(built):
    urls, _ = built
    with connect(urls.warehouse) as conn:
        rows = dict(
            conn.execute(
                "select severity, count(*) from ops.dq_validation_results group by 1"
            ).fetchall()
        )
        stages = {
            r[0]
            for r in conn.execute("select distinct stage from ops.dq_validation_results").fetchall()
        }
    assert rows == {
        "blocking": sum(len(spec.expectations(blocking=True)) for spec in SUITES),
        "warning": sum(len(spec.expectations(blocking=False)) for spec in SUITES),
    }
    assert stages == {"raw", "reference", "staging", "intermediate", "marts"}


def test_raw_stage(built):
    urls, instance = built
    before = _marts(urls.warehouse)
    with connect(urls.warehouse) as conn:
        conn.execute(
            """
            insert into raw.collector_events (source_id, host_id, session_id, event_type,
                agent_name, hook_name, decision, latency_ms, created_at, _run_id)
            select source_id + 1000000000, host_id, session_id, 'not_an_event_type',
                agent_name, hook_name, decision, -250, created_at, 'saboteur'
            from raw.collector_events order by source_id limit 1
            """
        )
    try:
        result = run_pipeline(instance)
        failures = _failures(_evaluation(result, "gx_raw_collector_events"))
        contract = "contract: every row keeps contracts.CollectorEvent"
        assert set(failures) == {
            contract,
            "conservation: loads of collector.telemetry_events account for every row",
        }
        # The first rule the row breaks, in the order the contract declares them.
        assert failures[contract] == [
            {
                "source_id": failures[contract][0]["source_id"],
                "broken_rule": "unknown_enum(event_type)",
            }
        ]
        assert failures[contract][0]["source_id"].startswith("100")
        materialized = _materialized(result)
        assert "raw/collector_events" in materialized
        assert not any(k.startswith(("staging/", "intermediate/", "marts/")) for k in materialized)
        assert _marts(urls.warehouse) == before
    finally:
        with connect(urls.warehouse) as conn:
            conn.execute("delete from raw.collector_events where _run_id = 'saboteur'")


def test_staging_stage(built):
    """A raw row edited around the loader so that it keeps raw's contract but not what staging
    guarantees (a Claude Code tool call without a name) fails the staging check."""
    urls, instance = built
    before = _marts(urls.warehouse)
    with connect(urls.warehouse) as conn:
        key, tool_uses = conn.execute(
            "update raw.claude_code_lines as l set tool_uses = jsonb_build_array("
            "(l.tool_uses -> 0) - 'name') "
            "where (file_path, line_number) = (select file_path, line_number "
            "from raw.claude_code_lines as c where jsonb_array_length(tool_uses) = 1 "
            "and message_id is not null and (select count(*) from raw.claude_code_lines as d "
            "where d.tool_uses @> jsonb_build_array(jsonb_build_object('id', "
            "c.tool_uses -> 0 ->> 'id'))) = 1 "
            "order by file_path, line_number limit 1) "
            "returning l.tool_uses -> 0 ->> 'id', "
            "(select tool_uses from raw.claude_code_lines as o where o.file_path = l.file_path "
            "and o.line_number = l.line_number)"
        ).fetchone()
    try:
        result = run_pipeline(instance)
        evaluation = _evaluation(result, "gx_stg_claude_code__tool_calls")
        assert not evaluation.passed
        assert _failures(evaluation) == {"tool_name": [{"tool_use_id": key}]}
        assert _evaluation(result, "gx_raw_claude_code_lines").passed
        materialized = _materialized(result)
        assert "staging/stg_claude_code__tool_calls" in materialized
        # What reads tool calls waits (the calls fact does not read them).
        assert not any(
            k.startswith(("intermediate/int_tool", "intermediate/int_sessions", "marts/"))
            for k in materialized
        )
        assert _marts(urls.warehouse) == before
    finally:
        with connect(urls.warehouse) as conn:
            conn.execute(
                "update raw.claude_code_lines set tool_uses = %s "
                "where tool_uses -> 0 ->> 'id' = %s",
                (Jsonb(tool_uses), key),
            )


def test_intermediate_stage(built):
    """A corrupted old day of the incremental calls fact is not rebuilt by the next run, and
    its check holds back every mart."""
    urls, instance = built
    before = _marts(urls.warehouse)
    with connect(urls.warehouse) as conn:
        call_id = conn.execute(
            """
            update intermediate.int_agent_calls_unioned set total_tokens = -5
            where call_id = (
                select min(call_id) from intermediate.int_agent_calls_unioned
                where call_date = (
                    select min(call_date) + 2 from intermediate.int_agent_calls_unioned)
            )
            returning call_id
            """
        ).fetchone()[0]
    try:
        result = run_pipeline(instance)
        failures = _failures(_evaluation(result, "gx_int_agent_calls_unioned"))
        assert failures == {"total_tokens": [{"call_id": call_id}]}
        materialized = _materialized(result)
        assert "intermediate/int_agent_calls_unioned" in materialized
        assert not any(k.startswith("marts/") for k in materialized)
        assert "intermediate/int_sessions_aggregated" not in materialized
        assert _marts(urls.warehouse) == before
    finally:
        with connect(urls.warehouse) as conn:
            conn.execute(
                "update intermediate.int_agent_calls_unioned "
                "set total_tokens = -total_tokens where call_id = %s",
                (call_id,),
            )


def test_marts_stage(built):
    """A run that re-validates a corrupted mart does not rebuild the marts that read it:
    alerts keep their last good state."""
    urls, _ = built
    trends = dg.AssetKey(["marts", "fct_daily_token_trends"])
    readers = [
        key
        for key in dg.AssetSelection.assets(trends)
        .downstream(include_self=False)
        .resolve(defs.resolve_asset_graph())
        if key.path[0] == "marts"
    ]
    assert {key.path[-1] for key in readers} == {"fct_alerts", "alert_inbox"}
    recheck = dg.define_asset_job(
        "recheck_trends",
        selection=dg.AssetSelection.checks(dg.AssetCheckKey(trends, "gx_fct_daily_token_trends"))
        | dg.AssetSelection.assets(*readers),
    )
    job = dg.Definitions(
        assets=ASSETS, asset_checks=ASSET_CHECKS, jobs=[recheck], resources=defs.resources
    ).resolve_job_def("recheck_trends")
    alerts_before = table_checksum(urls.warehouse, "marts.fct_alerts", "t.alert_id")
    with connect(urls.warehouse) as conn:
        conn.execute(
            "update marts.fct_daily_token_trends set total_tokens = -1 "
            "where (usage_date, tenant_id, source_system) = (select usage_date, tenant_id, "
            "source_system from marts.fct_daily_token_trends order by 1, 2, 3 limit 1)"
        )
    result = job.execute_in_process(instance=DagsterInstance.ephemeral(), raise_on_error=False)
    failures = _failures(_evaluation(result, "gx_fct_daily_token_trends"))
    assert list(failures) == ["total_tokens"] and len(failures["total_tokens"]) == 1
    assert _materialized(result) == set()
    assert table_checksum(urls.warehouse, "marts.fct_alerts", "t.alert_id") == alerts_before


def test_full_validation_sees_what_the_window_cannot(built):
    """An old raw row rewritten with every trigger off (so neither restamped nor logged) is
    outside every run's window; the full validation (weekly, or `atw validate`) reads every
    row, fails on it and builds nothing."""
    urls, instance = built
    with connect(urls.warehouse) as conn:
        conn.execute("alter table raw.collector_events disable trigger user")
        source_id, event_type = conn.execute(
            "update raw.collector_events as e set event_type = 'not_an_event_type' "
            "where source_id = (select source_id from raw.collector_events "
            "order by created_at, source_id limit 1) "
            "returning e.source_id, (select event_type from raw.collector_events as o "
            "where o.source_id = e.source_id)"
        ).fetchone()
        conn.execute("alter table raw.collector_events enable trigger user")
    try:
        nightly = run_pipeline(instance)
        assert nightly.success
        window = _evaluation(nightly, "gx_raw_collector_events")
        assert window.passed
        assert window.metadata["rows_validated"].value.startswith("written since ")
        full = defs.resolve_job_def("full_validation").execute_in_process(
            instance=instance, raise_on_error=False
        )
        evaluation = _evaluation(full, "gx_raw_collector_events")
        assert evaluation.metadata["rows_validated"].value == "whole table"
        assert _failures(evaluation) == {
            "contract: every row keeps contracts.CollectorEvent": [
                {"source_id": str(source_id), "broken_rule": "unknown_enum(event_type)"}
            ]
        }
        assert _materialized(full) == set()
    finally:
        with connect(urls.warehouse) as conn:
            conn.execute("alter table raw.collector_events disable trigger user")
            conn.execute(
                "update raw.collector_events set event_type = %s where source_id = %s",
                (event_type, source_id),
            )
            conn.execute("alter table raw.collector_events enable trigger user")


def _compiled_tests(
    url: str, select: list[str], pattern: str, variable: str, value: str | None, monkeypatch
) -> list[str]:
    """The SQL dbt compiles for the tests in `select` whose files match `pattern`, with the
    window variable `variable` set to `value` (unset for None)."""
    from orchestration.defs.dbt.manifest import run_dbt

    if value is None:
        monkeypatch.delenv(variable, raising=False)
    else:
        monkeypatch.setenv(variable, value)
    target = f"target/{variable.lower()}-{value}"
    done = run_dbt(url, ["compile", *select], target, capture_output=True)
    assert done.returncode == 0, done.stdout[-2000:]
    folder = DBT_PROJECT_DIR / target / "compiled"
    return [path.read_text() for path in sorted(folder.rglob(pattern))]


def test_staging_tests_read_the_days_that_changed(built):
    """The dbt tests of the staging views read the days given in ATW_DBT_TEST_DAYS, none
    with `none`, every row without it (macros/test_window.sql)."""
    from orchestration.defs.dbt.test_window import VARIABLE

    urls, _ = built
    select = ["--select", "stg_collector__telemetry_events,resource_type:test"]

    def compiled(value: str | None, monkeypatch) -> str:
        texts = _compiled_tests(
            urls.warehouse, select, "not_null_*event_id*.sql", VARIABLE, value, monkeypatch
        )
        return "\n".join(texts)

    with pytest.MonkeyPatch.context() as monkeypatch:
        days = compiled("2026-11-29,2026-11-30", monkeypatch)
        assert "'2026-11-29 00:00+00'::timestamptz" in days
        assert "'2026-11-30 00:00+00'::timestamptz" in days
        assert "where false" in compiled("none", monkeypatch).replace("\n", " ")
        assert "dbt_subquery" not in compiled(None, monkeypatch)


def test_the_staged_sessions_test_reads_the_days_that_changed(built):
    """The marts step's test that every staged session is analyzed reads the staged rows of
    the window's days (in_test_window), every row without the variable."""
    from orchestration.defs.dbt.test_window import VARIABLE

    urls, _ = built
    test = "assert_every_staged_session_is_analyzed"

    def compiled(value: str | None, monkeypatch) -> str:
        (text,) = _compiled_tests(
            urls.warehouse, ["--select", test], f"{test}.sql", VARIABLE, value, monkeypatch
        )
        return " ".join(text.split())

    with pytest.MonkeyPatch.context() as monkeypatch:
        days = compiled("2026-11-30", monkeypatch)
        # One range for each of the four staged sources.
        assert days.count("occurred_at >= '2026-11-30 00:00+00'::timestamptz") == 4
        assert compiled("none", monkeypatch).count("where false") == 4
        assert "00:00+00" not in compiled(None, monkeypatch)


def test_the_marts_window_holds_the_days_the_calls_fact_rebuilt(built):
    """A calls fact day rebuilt since the marts step's tests last passed is in their window,
    though no raw row of it changed: another day's calls can change its sessions."""
    from expectations import windows
    from orchestration.defs.dbt import test_window

    urls, _ = built
    probe = "probe_mart_tests"
    with connect(urls.warehouse) as conn:
        windows.passed(conn, probe, windows.horizon(conn), "window")
        day = conn.execute(
            "select max(call_date) from intermediate.int_agent_calls_unioned"
        ).fetchone()[0]
        # An edit in place restamps rebuilt_at (the fact's trigger); the values stay.
        conn.execute(
            "update intermediate.int_agent_calls_unioned set call_date = call_date "
            "where call_date = %s",
            (day,),
        )
    with test_window.test_days(urls.warehouse, False, probe) as raw_only:
        pass
    with connect(urls.warehouse) as conn:
        windows.passed(conn, probe, windows.horizon(conn), "window")
        conn.execute(
            "update intermediate.int_agent_calls_unioned set call_date = call_date "
            "where call_date = %s",
            (day,),
        )
    with test_window.test_days(urls.warehouse, False, probe, with_fact=True) as with_fact:
        pass
    assert day.isoformat() not in raw_only[test_window.VARIABLE]
    assert day.isoformat() in with_fact[test_window.VARIABLE].split(",")
    # The watermark itself goes along, for the tests of rows rebuilt since.
    assert raw_only[test_window.PASSED_FROM] and with_fact[test_window.PASSED_FROM]


def test_the_tool_sequence_key_test_reads_the_rows_rebuilt_since_it_passed(built):
    """int_tool_sequences_daily's key holds the day its builds replace whole: its uniqueness
    test reads the rows rebuilt since the watermark in ATW_DBT_TESTS_PASSED_FROM, every row
    without it."""
    from orchestration.defs.dbt.test_window import PASSED_FROM

    urls, _ = built
    select = ["--select", "int_tool_sequences_daily,resource_type:test"]

    def compiled(value: str | None, monkeypatch) -> str:
        texts = _compiled_tests(
            urls.warehouse,
            select,
            "unique_combination_of_columns_*.sql",
            PASSED_FROM,
            value,
            monkeypatch,
        )
        return " ".join(" ".join(text.split()) for text in texts)

    with pytest.MonkeyPatch.context() as monkeypatch:
        since = "2026-11-30T04:00:00.123456+00:00"
        assert f"where rebuilt_at >= '{since}'::timestamptz" in compiled(since, monkeypatch)
        assert "rebuilt_at >=" not in compiled(None, monkeypatch)


def test_each_models_tests_read_from_after_its_last_build(built, monkeypatch):
    """Once a step's tests pass, each incremental model's tests read next time from the
    horizon taken just after its build committed (ops.dbt_model_horizons), not from the
    step's start: the rows that build wrote, all of history after a first build, are not read
    again. A row written later is newer than that horizon, so it is still read."""
    from expectations import windows
    from orchestration.defs.dbt import test_window

    urls, _ = built
    fact = "int_agent_calls_unioned"
    with connect(urls.warehouse) as conn:
        marks = test_window._model_watermarks(conn, test_window.CALLS_WATERMARK)
        step = windows.watermark(conn, test_window.CALLS_WATERMARK)
        # The newest row stamped before the hook took the horizon (later ones are this
        # module's own writes).
        newest = conn.execute(
            "select max(rebuilt_at) from intermediate.int_agent_calls_unioned "
            "where rebuilt_at <= (select recorded_at from intermediate.dbt_model_horizons "
            "where model_name = 'int_agent_calls_unioned')"
        ).fetchone()[0]
        mart_marks = test_window._model_watermarks(conn, test_window.MART_WATERMARK)
    assert set(marks) == {fact}
    assert marks[fact] > newest  # the build's own rows are behind it
    assert {"int_tool_calls", "int_tool_sequences_daily", "int_sessions_aggregated"} <= set(
        mart_marks
    )
    with test_window.test_days(
        urls.warehouse, False, test_window.CALLS_WATERMARK, whole_selection=False
    ) as variables:
        pass
    by_model = json.loads(variables[test_window.PASSED_FROM_MODELS])
    assert by_model == {fact: max(step, marks[fact]).isoformat()}
    # A full validation reads every row: no watermark at all.
    with test_window.test_days(
        urls.warehouse, True, test_window.CALLS_WATERMARK, whole_selection=False
    ) as full:
        pass
    assert (
        full[test_window.PASSED_FROM] == ""
        and json.loads(full[test_window.PASSED_FROM_MODELS]) == {}
    )

    # The compiled tests take the model's watermark over the step's.
    own, step_mark = "2026-01-02T03:04:05+00:00", "2026-01-01T00:00:00+00:00"
    monkeypatch.setenv(test_window.PASSED_FROM_MODELS, json.dumps({fact: own}))
    texts = _compiled_tests(
        urls.warehouse,
        ["--select", f"{fact},resource_type:test"],
        "*.sql",
        test_window.PASSED_FROM,
        step_mark,
        monkeypatch,
    )
    # The fact's own tests: not int_tool_calls' key test nor the transcripts' singular test,
    # which read from int_tool_calls' watermark and the step's.
    compiled = " ".join(
        " ".join(text.split())
        for text in texts
        if "int_tool_calls" not in text and "transcripts" not in text
    )
    # The key test and the `where: __rebuilt_since__` tests read from the model's horizon.
    assert compiled.count(f"rebuilt_at >= '{own}'::timestamptz") >= 4
    assert step_mark not in compiled


def test_a_run_of_part_of_a_step_leaves_its_test_watermark(built):
    """A run of some of the staging step's models skips the windowed tests of the others: the
    step's test watermark stays where they last passed. A run of the whole step moves it."""
    from orchestration.defs.dbt import test_window
    from orchestration.defs.dbt.assets import dbt_staging_models

    urls, _ = built

    def watermark():
        with connect(urls.warehouse) as conn:
            row = conn.execute(
                "select passed_from from ops.dq_watermarks where check_name = %s",
                (test_window.WATERMARK,),
            ).fetchone()
        return row and row[0]

    def run(*keys):
        job = dg.define_asset_job("part", selection=dg.AssetSelection.assets(*keys))
        result = (
            dg.Definitions(
                assets=ASSETS, asset_checks=ASSET_CHECKS, jobs=[job], resources=defs.resources
            )
            .resolve_job_def("part")
            .execute_in_process(instance=DagsterInstance.ephemeral(), raise_on_error=False)
        )
        assert result.success

    before = watermark()
    staging = dg.AssetKey(["staging", "stg_landing__metric_events"])
    run(staging)
    assert watermark() == before
    run(*dbt_staging_models.keys)
    assert watermark() is not None and (before is None or watermark() > before)


def _written_now(conn, table: str, where: str, **values) -> None:
    """A copy of the first row of `table` matching `where`, as a build would write it now
    (`rebuilt_at`), with `values` in place of its columns."""
    relation = sql.Identifier(*table.split("."))
    conn.execute(
        sql.SQL(
            "insert into {table} select (jsonb_populate_record(null::{table}, to_jsonb(t) "
            "|| %s || jsonb_build_object('rebuilt_at', now()))).* "
            "from {table} as t where {where} limit 1"
        ).format(table=relation, where=sql.SQL(where)),
        (Jsonb(values),),
    )


def test_the_key_tests_look_up_the_keys_written_since_in_every_row(built, monkeypatch):
    """The calls fact's and the tool calls' key tests read the rows rebuilt since they last
    passed and look each key up in the whole table: a duplicate of a row written long before,
    and a tool call whose call is gone, fail them; with nothing written since they pass."""
    from orchestration.defs.dbt.manifest import run_dbt

    urls, _ = built
    tests = ["--select", "test_name:unique_key", "test_name:key_exists_in"]

    def failing(passed_from: str | None) -> set[str]:
        if passed_from is None:
            monkeypatch.delenv("ATW_DBT_TESTS_PASSED_FROM", raising=False)
        else:
            monkeypatch.setenv("ATW_DBT_TESTS_PASSED_FROM", passed_from)
        done = run_dbt(urls.warehouse, ["test", *tests], "target/key-tests", capture_output=True)
        output = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout.decode(errors="replace"))
        names = (
            "unique_key_int_agent_calls_unioned",
            "unique_key_int_tool_calls",
            "key_exists_in_int_tool_calls",
        )
        return {name for name in names if f"Failure in test {name}" in output}

    with connect(urls.warehouse) as conn:
        since = conn.execute("select now()").fetchone()[0].isoformat()
    assert failing(since) == set()
    try:
        with connect(urls.warehouse) as conn:
            oldest = "call_date = (select min(call_date) from {})"
            fact = "intermediate.int_agent_calls_unioned"
            tools = "intermediate.int_tool_calls"
            _written_now(conn, fact, oldest.format(fact))
            _written_now(conn, tools, oldest.format(tools))
            _written_now(conn, tools, oldest.format(tools), tool_call_id="gone#0", call_id="gone")
        expected = {
            "unique_key_int_agent_calls_unioned",
            "unique_key_int_tool_calls",
            "key_exists_in_int_tool_calls",
        }
        assert failing(since) == expected
        assert failing(None) == expected
    finally:
        with connect(urls.warehouse) as conn:
            for table in ("intermediate.int_agent_calls_unioned", "intermediate.int_tool_calls"):
                conn.execute(
                    sql.SQL("delete from {} where rebuilt_at >= %s").format(
                        sql.Identifier(*table.split("."))
                    ),
                    (since,),
                )
    assert failing(since) == set()


SESSION_TESTS = (
    "assert_each_transcript_counts_in_one_session",
    "assert_every_staged_session_is_analyzed",
)
# A call of the oldest day whose collector id has a transcript.
CALL_WITH_TRANSCRIPT = (
    "select calls.call_id from intermediate.int_agent_calls_unioned as calls "
    "inner join raw.collector_session_transcripts as transcripts "
    "on calls.source_session_id = transcripts.session_id "
    "where calls.source_system = 'collector' and transcripts.message_count > 0 "
    "order by calls.call_date, calls.call_id limit 1"
)


def _copy_session(conn, table: str, of_session: str, **values) -> None:
    """A copy of the row of `table` for the collector session `of_session`, with `values` in
    place of its columns."""
    relation = sql.Identifier(*table.split("."))
    conn.execute(
        sql.SQL(
            "insert into {table} select (jsonb_populate_record(null::{table}, "
            "to_jsonb(t) || %s)).* from {table} as t "
            "where t.source_system = 'collector' and t.session_id = %s"
        ).format(table=relation),
        (Jsonb(values), of_session),
    )


def test_the_session_tests_read_the_sessions_written_since(built, monkeypatch):
    """The marts step's session tests read the sessions written since they last passed and
    the staged rows of the window's days: a transcript counted again in a second session of
    its id, written since on a call of the oldest day, and a session gone from the scored
    sessions on a day of the window fail them; with nothing written since they pass, and the
    full validation sees both."""
    from orchestration.defs.dbt.manifest import run_dbt
    from orchestration.defs.dbt.test_window import PASSED_FROM, VARIABLE

    urls, _ = built
    transcript_test, staged_test = SESSION_TESTS
    sessions = ("int_sessions_aggregated", "int_sessions_scored")

    def failing(passed_from: str | None, days: str | None) -> set[str]:
        for variable, value in ((PASSED_FROM, passed_from), (VARIABLE, days)):
            if value is None:
                monkeypatch.delenv(variable, raising=False)
            else:
                monkeypatch.setenv(variable, value)
        done = run_dbt(
            urls.warehouse,
            ["test", "--select", *SESSION_TESTS],
            "target/session-tests",
            capture_output=True,
        )
        output = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout.decode(errors="replace"))
        # Both ran (beside the project's on-run-start hook), and a failure is the test's
        # verdict, not an error running it.
        ran = re.search(r"Finished running (\d+ project hooks?, )?2 data tests\b", output)
        assert ran and "Error in test" not in output, output[-2000:]
        return {name for name in SESSION_TESTS if f"Failure in test {name}" in output}

    with connect(urls.warehouse) as conn:
        since = conn.execute("select now()").fetchone()[0].isoformat()
        session_id, day, message_count = conn.execute(
            sql.SQL(
                "select calls.session_id, calls.call_date, transcripts.message_count "
                "from intermediate.int_agent_calls_unioned as calls "
                "inner join raw.collector_session_transcripts as transcripts "
                "on calls.source_session_id = transcripts.session_id "
                "where calls.call_id = ({})"
            ).format(sql.SQL(CALL_WITH_TRANSCRIPT))
        ).fetchone()
    assert failing(since, "none") == set()
    twin = "planted-twin"
    try:
        # One of the id's calls given a session of its own, which counts the transcript again
        # (the defect: a transcript attached to each session holding one of its id's calls).
        with connect(urls.warehouse) as conn:
            _written_now(
                conn,
                "intermediate.int_agent_calls_unioned",
                f"call_id = ({CALL_WITH_TRANSCRIPT})",
                call_id="planted#0",
                session_id=twin,
            )
            for table in sessions:
                _copy_session(
                    conn,
                    f"intermediate.{table}",
                    session_id,
                    session_id=twin,
                    session_key=f"collector:{twin}",
                    message_count=message_count,
                    has_transcript=True,
                )
        assert failing(since, day.isoformat()) == {transcript_test}
        assert failing(None, None) == {transcript_test}
    finally:
        with connect(urls.warehouse) as conn:
            conn.execute(
                "delete from intermediate.int_agent_calls_unioned where rebuilt_at >= %s",
                (since,),
            )
            for table in sessions:
                conn.execute(
                    sql.SQL("delete from {} where session_id = %s").format(
                        sql.Identifier("intermediate", table)
                    ),
                    (twin,),
                )
    assert failing(since, day.isoformat()) == set()

    # A session of the newest day gone from the scored sessions: the staged rows of that day
    # show it, those of no day do not.
    with connect(urls.warehouse) as conn:
        session_id, day = conn.execute(
            "select session_id, call_date from intermediate.int_agent_calls_unioned "
            "where source_system = 'collector' and source_session_id is not null "
            "order by call_date desc, call_id limit 1"
        ).fetchone()
        conn.execute(
            "create table intermediate.scored_kept_by_test as "
            "select * from intermediate.int_sessions_scored "
            "where source_system = 'collector' and session_id = %s",
            (session_id,),
        )
        conn.execute(
            "delete from intermediate.int_sessions_scored "
            "where source_system = 'collector' and session_id = %s",
            (session_id,),
        )
    try:
        assert failing(since, day.isoformat()) == {staged_test}
        assert failing(since, "none") == set()
        assert failing(None, None) == {staged_test}
    finally:
        with connect(urls.warehouse) as conn:
            conn.execute(
                "insert into intermediate.int_sessions_scored "
                "select * from intermediate.scored_kept_by_test"
            )
            conn.execute("drop table intermediate.scored_kept_by_test")
    assert failing(since, day.isoformat()) == set()


def test_the_marts_agree_on_the_days_rebuilt_and_in_full(built, monkeypatch):
    """assert_marts_agree_on_calls_and_tokens compares the facts with the day-grained marts
    on the days rebuilt since the tests last passed (every day without the watermark), and the
    other marts with those over all data. A call edited on a rebuilt day fails it; one edited
    on a day no build touched, only the full reading; a dimension that disagrees, always."""
    from expectations import windows
    from orchestration.defs.dbt.manifest import run_dbt
    from orchestration.defs.dbt.test_window import PASSED_FROM

    urls, _ = built
    test = "assert_marts_agree_on_calls_and_tokens"

    def passes(since) -> bool:
        if since is None:
            monkeypatch.delenv(PASSED_FROM, raising=False)
        else:
            monkeypatch.setenv(PASSED_FROM, since.isoformat())
        done = run_dbt(
            urls.warehouse,
            ["test", "--select", test],
            "target/marts-agree",
            capture_output=True,
            text=True,
        )
        verdicts = re.findall(rf"\b(PASS|FAIL \d+)\b.*{test}", done.stdout)
        assert len(verdicts) == 1, done.stdout[-2000:]
        return verdicts[0] == "PASS"

    def edit_call(conn, day, tokens: int) -> None:
        """Add `tokens` to one call of `day` without restamping it (no trigger fires)."""
        conn.execute("set session_replication_role = replica")
        conn.execute(
            "update intermediate.int_agent_calls_unioned set total_tokens = total_tokens + %s "
            "where call_id = (select min(call_id) from intermediate.int_agent_calls_unioned "
            "where call_date = %s)",
            (tokens, day),
        )
        conn.execute("set session_replication_role = origin")

    with connect(urls.warehouse, autocommit=True) as conn:
        since = windows.horizon(conn)
        oldest, newest = conn.execute(
            "select min(call_date), max(call_date) from intermediate.int_agent_calls_unioned"
        ).fetchone()
        assert passes(since) and passes(None)
        edit_call(conn, oldest, 7)
        try:
            assert passes(since), "a day no build touched is outside the window"
            assert not passes(None)
        finally:
            edit_call(conn, oldest, -7)
        # Rebuilt: restamped by the fact's trigger, values unchanged.
        conn.execute(
            "update intermediate.int_agent_calls_unioned set call_date = call_date "
            "where call_date = %s",
            (newest,),
        )
        edit_call(conn, newest, 7)
        try:
            assert not passes(since)
            assert passes(windows.horizon(conn)), "not rebuilt since that mark"
        finally:
            edit_call(conn, newest, -7)
        conn.execute("update marts.dim_agents set call_count = call_count + 1")
        try:
            assert not passes(windows.horizon(conn))
        finally:
            conn.execute("update marts.dim_agents set call_count = call_count - 1")
        assert passes(since)
