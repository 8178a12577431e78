"""Settings and set-up that must not corrupt, leak or be abused: the Dagster instance created by
one process at a time, no password in dagster.yaml, vars checked before they reach SQL, analyst
logins that never take over a role, `atw dbt debug`."""

import os
import stat
import subprocess
import sys
import textwrap
import uuid

import pytest
from psycopg import sql

from ingestion.core.connections import connect
from orchestration.defs.dbt.vars import deployment_vars
from orchestration.lib.instance import PASSWORD_VARIABLE, prepare_dagster_home
from warehouse import embedded_server
from warehouse.roles import add_analyst, setup_roles

TINY_RUN = textwrap.dedent("""
    import dagster as dg
    from dagster import DagsterInstance
    from orchestration.lib.instance import prepare_dagster_home

    @dg.op
    def hello():
        return 1

    @dg.job
    def tiny():
        hello()

    prepare_dagster_home()
    with DagsterInstance.get() as instance:
        assert tiny.execute_in_process(instance=instance).success
""")


@pytest.mark.e2e  # three processes that each load Dagster: minutes on a busy machine
def test_two_runs_on_a_new_dagster_home_both_succeed(tmp_path):
    """Without the lock, about one start in three corrupted SQLite storage here."""
    env = {k: v for k, v in os.environ.items() if k != "ATW_DAGSTER_STORAGE"}
    for attempt in range(3):
        home = tmp_path / f"home-{attempt}"
        env["DAGSTER_HOME"] = str(home)
        runs = [
            subprocess.Popen(
                [sys.executable, "-c", TINY_RUN],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outcomes = [run.communicate(timeout=300) for run in runs]
        assert [run.returncode for run in runs] == [0, 0], outcomes
        after = subprocess.run(
            [sys.executable, "-c", TINY_RUN], env=env, capture_output=True, text=True, timeout=300
        )
        assert after.returncode == 0, after.stderr[-2000:]


def test_dagster_yaml_holds_no_password_and_only_its_owner_reads_it(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.setenv("ATW_DAGSTER_STORAGE", "postgres")
    monkeypatch.setenv(
        "ATW_DAGSTER_PG_URL",
        "postgresql://dagster:s3cr%40t-Pw@db.internal:5433/runs?sslmode=require",
    )
    monkeypatch.delenv(PASSWORD_VARIABLE, raising=False)
    from orchestration.lib.instance import export_password, render

    config = render(tmp_path)
    assert "s3cr" not in config
    assert f"password: {{env: {PASSWORD_VARIABLE}}}" in config
    assert 'hostname: "db.internal"' in config and "port: 5433" in config
    export_password()
    assert os.environ[PASSWORD_VARIABLE] == "s3cr@t-Pw"


def test_the_written_dagster_yaml_is_private(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.delenv("ATW_DAGSTER_STORAGE", raising=False)
    prepare_dagster_home()
    mode = stat.S_IMODE((tmp_path / "dagster.yaml").stat().st_mode)
    assert mode == 0o600


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('{"no_such_var": 1}', "is not a var"),
        ('{"alert_min_calls": "20; drop table marts.fct_alerts"}', "same kind"),
        ('{"complexity_error_rate": [0.1]}', "same kind"),
        ('{"report_timezone": "UTC\'; drop table x; --"}', "IANA"),
        ("[1, 2]", "JSON object"),
        ("{nope", "JSON object"),
    ],
)
def test_deployment_vars_are_checked_before_they_reach_sql(value, message, monkeypatch):
    monkeypatch.setenv("ATW_DBT_VARS", value)
    with pytest.raises(ValueError, match=message) as refused:
        deployment_vars()
    assert "drop table" not in str(refused.value)


def test_good_deployment_vars_pass(monkeypatch):
    monkeypatch.setenv(
        "ATW_DBT_VARS",
        '{"report_timezone": "America/Los_Angeles", '
        '"alert_min_calls": 5, "complexity_error_rate": [0.2, 0.3]}',
    )
    assert deployment_vars()["alert_min_calls"] == 5


def _atw(*args, env=None, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_report_timezone_is_checked_by_dbt_and_atw_dbt_debug_works(urls):
    env = dict(os.environ)
    debug = _atw("dbt", "debug", env=env)
    assert debug.returncode == 0, debug.stdout[-2000:]
    for timezone, message in (
        ("Mars/Olympus_Mons", "not a time zone this server knows"),
        ("UTC'; drop table raw.quarantine; --", "IANA time zone name"),
    ):
        compiled = _atw(
            "dbt",
            "compile",
            "--select",
            "fct_claude_code_daily_usage",
            "--vars",
            f'{{"report_timezone": "{timezone}"}}',
            env=env,
        )
        assert compiled.returncode != 0
        assert message in compiled.stdout


def test_an_analyst_login_never_takes_over_a_role(pg_base_url):
    url = embedded_server.ensure_database(pg_base_url, f"roles_{uuid.uuid4().hex[:8]}")
    name, foreign = f"bi_{uuid.uuid4().hex[:6]}", f"dba_{uuid.uuid4().hex[:6]}"
    with connect(url) as conn:
        setup_roles(conn)
        conn.execute(
            sql.SQL("create role {} login password 'theirs'").format(sql.Identifier(foreign))
        )
        conn.commit()
        with pytest.raises(ValueError, match="was not created by"):
            add_analyst(conn, foreign, ["t1"], "mine")
        add_analyst(conn, name, ["t1"], "first")
        add_analyst(conn, name, ["t2"], "second")  # its own: updated
        member = conn.execute("select pg_has_role(%s, 'analyst', 'member')", (foreign,)).fetchone()[
            0
        ]
        tenants = [
            t
            for (t,) in conn.execute(
                "select tenant_id from ops.analyst_tenants where role_name = %s", (name,)
            )
        ]
    assert not member and tenants == ["t2"]
