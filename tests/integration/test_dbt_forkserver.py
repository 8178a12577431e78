"""The warm dbt (orchestration/defs/dbt/forkserver.py): a command run through `atw-dbt` and the
server behaves as the same command run by dbt itself: output, exit status, environment, working
folder, and it stops when its caller is interrupted or killed."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingestion.core.connections import connect
from orchestration.defs.dbt import forkserver
from orchestration.defs.dbt.manifest import dbt_command
from tests.conftest import fresh_databases

SLEEP = "select pg_sleep(120) as slept"


@pytest.fixture(scope="module")
def warehouse(pg_base_url) -> str:
    with pytest.MonkeyPatch.context() as monkeypatch:
        return fresh_databases(pg_base_url, monkeypatch).warehouse


@pytest.fixture(scope="module")
def dbt_call(warehouse, dbt_manifest, tmp_path_factory):
    """`(args) -> (command, env)`: a dbt command line against the module's warehouse, its
    artefacts in a target folder of the module's own (one parse for all its tests)."""
    target = tmp_path_factory.mktemp("forkserver") / "target"

    def call(args: list[str]) -> tuple[list[str], dict]:
        command, env = dbt_command(warehouse, args, str(target))
        env.pop(forkserver.ADDRESS, None)
        return command, env

    return call


def _run(command, env, cwd) -> tuple[int, str, str]:
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)
    return done.returncode, done.stdout, done.stderr


def _warm(command: list[str], env: dict) -> tuple[list[str], dict]:
    server = forkserver.environment()
    assert server
    return [forkserver.executable(), *command[1:]], {**env, **server}


def _comparable(output: str) -> str:
    """Without the clock: log lines start with the time, and some end with a duration."""
    return "\n".join(
        re.sub(r"^\d\d:\d\d:\d\d\s+", "", line)
        for line in re.sub(r"\x1b\[[0-9;]*m", "", output).splitlines()
        if not re.search(r" in \d+(\.\d+)?s\b", line)
    )


def test_a_command_through_the_server_is_the_command_dbt_runs(dbt_call, tmp_path):
    assert Path(forkserver.executable()).name == "atw-dbt"
    probe = "value-from-the-callers-environment"
    inline = "select '{{ env_var(\"ATW_FORKSERVER_PROBE\") }}' as probe, 6 * 7 as answer"
    # Success (output, environment, folder, arguments) and a usage error (status, stderr).
    cases = [
        ["show", "--inline", inline, "--output", "json", "--quiet"],
        ["run", "--no-such-flag"],
    ]
    for args in cases:
        command, env = dbt_call(args)
        env["ATW_FORKSERVER_PROBE"] = probe
        cold = _run(command, env, tmp_path)
        warm = _run(*_warm(command, env), tmp_path)
        assert warm[0] == cold[0], args
        assert _comparable(warm[1]) == _comparable(cold[1]), args
        assert _comparable(warm[2]) == _comparable(cold[2]), args
        if args[0] == "show":
            assert cold[0] == 0 and probe in warm[1] and '"answer": 42' in warm[1]


def _installed(version_output: str) -> list[str]:
    """What `dbt --version` says is installed (it also asks PyPI what is latest, which a
    network makes vary)."""
    return [line for line in version_output.splitlines() if "installed" in line]


def test_without_a_server_it_is_dbt_itself(dbt_call, tmp_path):
    _, env = dbt_call([])
    command = [forkserver.real_dbt(), "--version"]
    gone = {**env, forkserver.ADDRESS: str(tmp_path / "no-server.sock")}
    fallback = _run([forkserver.executable(), *command[1:]], gone, tmp_path)
    warm = _run(*_warm(command, env), tmp_path)
    assert fallback[0] == warm[0] == 0
    assert _installed(fallback[1]) == _installed(warm[1]) != []


def test_commands_at_once_and_a_caller_without_stdin(dbt_call, tmp_path):
    """Each command gets its own environment and streams, even where the caller closed its
    stdin (the socket must not take fd 0's place)."""
    inline = "select '{{ env_var(\"ATW_FORKSERVER_PROBE\") }}' as probe"
    command, env = _warm(*dbt_call(["show", "--inline", inline, "--output", "json", "--quiet"]))
    clients = [
        subprocess.Popen(
            command,
            env={**env, "ATW_FORKSERVER_PROBE": f"probe-{n}"},
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=(lambda: os.close(0)) if n == 0 else None,  # noqa: PLW1509
        )
        for n in range(3)
    ]
    for n, client in enumerate(clients):
        out, err = client.communicate(timeout=300)
        assert client.returncode == 0, err
        assert json.loads(out)["show"] == [{"probe": f"probe-{n}"}]


def _sleeping(url: str) -> int:
    """Commands of this test's database sleeping in PostgreSQL (the server is shared by the
    xdist workers)."""
    with connect(url) as conn:
        return conn.execute(
            "select count(*) from pg_stat_activity where query like %s "
            "and datname = current_database() and pid <> pg_backend_pid()",
            ("%pg_sleep(120)%",),
        ).fetchone()[0]


def _cancel_sleeping(url: str) -> None:
    with connect(url) as conn:
        conn.execute(
            "select pg_cancel_backend(pid) from pg_stat_activity where query like %s "
            "and datname = current_database() and pid <> pg_backend_pid()",
            ("%pg_sleep(120)%",),
        )


def _until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.parametrize(
    ("how", "status", "query_stops"),
    [
        # What dagster-dbt sends to cancel a step: dbt cancels its query, exits 2, as cold.
        (signal.SIGINT, 2, True),
        # dbt has no handler: killed, as cold (its query runs on, as it would cold).
        (signal.SIGTERM, -signal.SIGTERM, False),
        # The caller killed outright: the command is stopped as on Ctrl-C.
        (signal.SIGKILL, -signal.SIGKILL, True),
    ],
)
def test_a_signalled_caller_ends_its_command(
    how, status, query_stops, warehouse, dbt_call, tmp_path
):
    command, env = _warm(*dbt_call(["show", "--inline", SLEEP, "--quiet"]))
    client = subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        assert _until(lambda: _sleeping(warehouse) == 1, 60)
        client.send_signal(how)
        assert client.wait(timeout=30) == status
        assert "Traceback" not in client.stderr.read().decode()
        if query_stops:
            assert _until(lambda: _sleeping(warehouse) == 0, 30)
    finally:
        client.kill()
        _cancel_sleeping(warehouse)


def test_the_server_ends_with_the_process_that_started_it(tmp_path):
    script = (
        "from orchestration.defs.dbt import forkserver\n"
        "print(forkserver.address(), forkserver._server.pid, flush=True)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    address, pid = done.stdout.split()

    def gone() -> bool:
        """Exited: no such process, or one nobody has reaped yet (a container's PID 1 may
        not)."""
        status = Path(f"/proc/{pid}/status")
        if not Path("/proc").is_dir():
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                return True
            return False
        try:
            return "\nState:\tZ" in status.read_text()
        except FileNotFoundError:
            return True

    assert _until(gone, 10)
    assert not Path(address).exists()
