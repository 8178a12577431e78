"""Downsampling (seed 003: `downsample_after: 30`): the detailed marts lose their rows older
than ATW_DOWNSAMPLE_DAYS, their `_daily` marts keep those days with the same totals, and no
other mart changes: not in that run, not in the next, not after a full refresh."""

from datetime import UTC, datetime

import pytest
from dagster import DagsterInstance
from psycopg import sql

from ingestion.core.connections import connect
from orchestration.defs.dbt.manifest import run_dbt
from orchestration.lib.runs import run_job
from tests.conftest import CUTOFF, mart_checksums
from warehouse import downsampling

# Errors of a session (or a day) summed over seed 003's categories.
PATTERN_ERRORS = (
    "(select coalesce(sum(value::bigint), 0) from jsonb_each_text(error_breakdown -> 'patterns'))"
)

# Detailed mart -> (its time column, its daily mart, the daily mart's day column, and the
# figures the two must agree on: (over the detail's rows, over the daily mart's rows)).
DETAILED = {
    "fct_session_summaries": (
        "started_at",
        "fct_sessions_daily",
        "session_date",
        [
            ("count(*)", "sum(session_count)"),
            ("sum(call_count)", "sum(call_count)"),
            ("sum(total_tokens)", "sum(total_tokens)"),
            ("sum(error_count)", "sum(error_count)"),
            ("round(sum(cost_usd)::numeric, 9)", "round(sum(cost_usd)::numeric, 9)"),
            (f"sum({PATTERN_ERRORS})", f"sum({PATTERN_ERRORS})"),
        ],
    ),
    "fct_usage_blocks": (
        "block_start_at",
        "fct_usage_blocks_daily",
        "block_date",
        [
            ("count(*)", "sum(block_count)"),
            ("sum(response_count)", "sum(response_count)"),
            ("sum(total_tokens)", "sum(total_tokens)"),
        ],
    ),
    "fct_anomalies": (
        "started_at",
        "fct_anomalies_daily",
        "anomaly_date",
        [("count(*)", "sum(anomaly_count)"), ("sum(call_count)", "sum(call_count)")],
    ),
}


def _run():
    assert run_job("everything", instance=DagsterInstance.ephemeral()).success


def _detail_by_day(conn, mart: str) -> dict:
    """The detailed mart's figures per UTC day before the cutoff."""
    column, _, _, figures = DETAILED[mart]
    rows = conn.execute(
        sql.SQL(
            "select ({column} at time zone 'UTC')::date, {figures} "
            "from {mart} where {column} < %s group by 1"
        ).format(
            column=sql.Identifier(column),
            figures=sql.SQL(", ").join(sql.SQL(f[0]) for f in figures),
            mart=sql.Identifier("marts", mart),
        ),
        (CUTOFF,),
    ).fetchall()
    return {row[0]: tuple(row[1:]) for row in rows}


def _daily_by_day(conn, mart: str) -> dict:
    """The daily mart's figures per day before the cutoff, summed over its other columns."""
    _, daily, day, figures = DETAILED[mart]
    rows = conn.execute(
        sql.SQL("select {day}, {figures} from {daily} where {day} < %s group by 1").format(
            day=sql.Identifier(day),
            figures=sql.SQL(", ").join(sql.SQL(f[1]) for f in figures),
            daily=sql.Identifier("marts", daily),
        ),
        (CUTOFF.date(),),
    ).fetchall()
    return {row[0]: tuple(row[1:]) for row in rows}


@pytest.fixture
def built(secured_clone, tmp_path, monkeypatch):
    """Every sample source, the roles set up (the marts belong to the transformer), one run
    with the test default that downsamples nothing of the sample: a copy of the shared build."""
    monkeypatch.setenv("ATW_REPORT_PATH", str(tmp_path / "report.html"))
    return secured_clone


def test_detail_older_than_the_cutoff_is_kept_only_at_daily_grain(built, monkeypatch):
    url = built.warehouse
    recent = {mart: f"where {spec[0]} >= '{CUTOFF.isoformat()}'" for mart, spec in DETAILED.items()}
    before = mart_checksums(url)
    before_recent = mart_checksums(url, recent)
    with connect(url) as conn:
        old_detail = {mart: _detail_by_day(conn, mart) for mart in DETAILED}
        # Until now the daily marts agree with the detail, day by day.
        for mart in DETAILED:
            assert old_detail[mart], f"{mart} has no rows before the cutoff to downsample"
            assert _daily_by_day(conn, mart) == old_detail[mart], mart

    monkeypatch.setenv("ATW_DOWNSAMPLE_DAYS", str((datetime.now(UTC).date() - CUTOFF.date()).days))
    _run()
    after = mart_checksums(url)
    with connect(url) as conn:
        recorded = dict(
            conn.execute(
                "select table_name, rows_affected from raw.downsample_runs where cutoff = %s",
                (CUTOFF,),
            ).fetchall()
        )
        for mart, (column, _, _, _) in DETAILED.items():
            # The detail before the cutoff is gone, and the run recorded how much went.
            assert (
                conn.execute(
                    sql.SQL("select count(*) from {} where {} < %s").format(
                        sql.Identifier("marts", mart), sql.Identifier(column)
                    ),
                    (CUTOFF,),
                ).fetchone()[0]
                == 0
            ), mart
            assert recorded[f"marts.{mart}"] == sum(
                figures[0] for figures in old_detail[mart].values()
            ), mart
            # Its daily mart still has those days, with the figures the detail had.
            assert _daily_by_day(conn, mart) == old_detail[mart], mart
    # The detail from the cutoff on is untouched, and so is every other mart (the alerts'
    # long sessions included, though their sessions left fct_session_summaries).
    assert mart_checksums(url, recent) == {**before, **{m: before_recent[m] for m in DETAILED}}
    assert {m: s for m, s in after.items() if m not in DETAILED} == {
        m: s for m, s in before.items() if m not in DETAILED
    }

    # The next run (the cutoff recorded) and a full refresh of every model keep it so.
    _run()
    assert mart_checksums(url) == after
    run_dbt(
        url,
        ["run", "--quiet", "--full-refresh", "--select", "staging", "intermediate", "marts"],
        "target/test-downsampling",
        check=True,
    )
    assert mart_checksums(url) == after
    with connect(url) as conn:
        # The marts stay the transformer's (the asset deleted as their owner).
        owners = conn.execute(
            "select distinct tableowner from pg_tables where schemaname = 'marts' "
            "and tablename in ('fct_session_summaries', 'fct_sessions_daily')"
        ).fetchall()
    assert owners == [("atw_transformer",)]


def test_the_downsample_setting_is_checked(monkeypatch):
    monkeypatch.setenv("ATW_DOWNSAMPLE_DAYS", "0")
    with pytest.raises(ValueError, match="at least 1"):
        downsampling.downsample_days()
    monkeypatch.setenv("ATW_DOWNSAMPLE_DAYS", "a month")
    with pytest.raises(ValueError, match="whole number"):
        downsampling.downsample_days()
    monkeypatch.delenv("ATW_DOWNSAMPLE_DAYS")
    assert downsampling.downsample_days() == 30


def test_downsampling_without_roles_deletes_as_the_login(collector_clone):
    """Where `atw roles` never ran, the login deletes as itself and stays itself."""
    url = collector_clone.warehouse
    with connect(url) as conn:
        old = conn.execute(
            "select count(*) from marts.fct_session_summaries where started_at < %s", (CUTOFF,)
        ).fetchone()[0]
        assert old > 0
        login = conn.execute("select current_user").fetchone()[0]
        done = downsampling.downsample(
            conn,
            "no-roles",
            now=datetime.now(UTC),
            days=(datetime.now(UTC).date() - CUTOFF.date()).days,
        )
        assert {item.table: item.rows for item in done}["marts.fct_session_summaries"] == old
        assert conn.execute("select current_user").fetchone()[0] == login
        assert (
            conn.execute(
                "select count(*) from marts.fct_session_summaries where started_at < %s", (CUTOFF,)
            ).fetchone()[0]
            == 0
        )


def test_downsampling_before_the_marts_exist_records_the_cutoff(urls):
    """A warehouse dbt has not built yet: nothing to delete, the cutoff is still recorded, and
    a later, longer setting does not move the latest cutoff back."""
    from ingestion.core.raw_schema import ensure_raw_schema

    now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    with connect(urls.warehouse) as conn:
        ensure_raw_schema(conn)
        done = downsampling.downsample(conn, "first", now=now, days=30)
        downsampling.downsample(conn, "second", now=now, days=60)
        latest = conn.execute("select max(cutoff) from raw.downsample_runs").fetchone()[0]
        recorded = conn.execute("select count(*) from raw.downsample_runs").fetchone()[0]
    assert [(item.table, item.rows) for item in done] == [
        (table, 0) for table, _ in downsampling.DETAILED_MARTS
    ]
    assert recorded == 2 * len(downsampling.DETAILED_MARTS)
    assert latest == datetime(2026, 10, 24, tzinfo=UTC)
