"""A warm dbt: one process imports dbt once, then forks a copy of itself for each dbt command.

Starting dbt costs about two seconds before it does anything (importing it builds a few
hundred mashumaro serializers); a run starts it four times, the tests some eighty times. dbt's
own command line (`dbt.cli.main.cli`) runs in each forked child exactly as the `dbt` executable
would run it, in a process of its own, so nothing of one command reaches the next.

dagster-dbt, `run_dbt` and `atw dbt` start dbt as an executable. `atw-dbt` (`client`) is that
executable: it hands its arguments, environment, working folder and standard streams to the
server at ATW_DBT_FORKSERVER and exits with the command's status, passing on SIGINT and SIGTERM;
where there is no server it becomes the real `dbt`. `address()` starts the server on first use
and stops it when this process ends.

What a command does not take from its caller is what Python fixes when it starts: its flags,
PYTHONPATH, the hash seed, the locale; the server has those of the process that started it,
whose environment the commands' callers share. Nor is the command in its caller's process
group: signals reach it through the client.

Only the standard library is imported here: the client must start in milliseconds.
"""

from __future__ import annotations

import atexit
import gc
import json
import logging
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import traceback
from pathlib import Path

ADDRESS = "ATW_DBT_FORKSERVER"
READY = b"ready\n"
# What the children would otherwise import for every command: the CLI and its tasks, the
# PostgreSQL adapter, the parser and the compiler.
PRELOAD = (
    "dbt.cli.main",
    "dbt.task.build",
    "dbt.task.run",
    "dbt.task.test",
    "dbt.task.seed",
    "dbt.task.list",
    "dbt.task.debug",
    "dbt.task.docs.generate",
    "dbt.parser.manifest",
    "dbt.compilation",
    "dbt.context.providers",
    "dbt.adapters.postgres",
    "dbt.adapters.postgres.impl",
)
STARTUP_TIMEOUT_SECONDS = 120
# How long a command whose caller died gets to stop on SIGINT before it is killed.
ORPHAN_GRACE_SECONDS = 30
FORWARDED = (signal.SIGINT, signal.SIGTERM)
_INT = struct.Struct("!i")

log = logging.getLogger(__name__)
_lock = threading.Lock()
_server: subprocess.Popen | None = None
_server_path: str | None = None
_failed = False


def real_dbt() -> str:
    """The dbt installed beside this Python (`.venv/bin` need not be on PATH), else PATH's."""
    for candidate in (Path(sys.executable).with_name("dbt"), Path(sys.prefix) / "bin" / "dbt"):
        if candidate.exists():
            return str(candidate)
    return shutil.which("dbt") or "dbt"


def executable() -> str:
    """What to run as `dbt`: `atw-dbt` where it is installed (beside this Python), else dbt."""
    client = Path(sys.executable).with_name("atw-dbt")
    return str(client) if client.exists() else real_dbt()


# --- in the process that runs dbt commands -------------------------------------------------


def address() -> str | None:
    """The socket of this process's dbt server, started on first use; None where it cannot
    run (no fork, or it failed to start once), and dbt then starts cold."""
    global _server, _server_path, _failed
    if not hasattr(os, "fork"):
        return None
    with _lock:
        if _server is not None and _server.poll() is None:
            return _server_path
        if _failed:
            return None
        folder = tempfile.mkdtemp(prefix="atw-dbt-")
        path = os.path.join(folder, "server.sock")
        server = subprocess.Popen(
            # -P: the server's imports do not depend on the folder it was started from.
            [sys.executable, "-P", "-m", __name__, path],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            # Its own session: a Ctrl-C at the terminal reaches the clients, which pass it on
            # to their commands, and not the server.
            start_new_session=True,
        )
        if not _wait_ready(server):
            server.kill()
            server.wait()
            shutil.rmtree(folder, ignore_errors=True)
            _failed = True
            log.warning("the warm dbt server did not start: dbt starts cold in this process")
            return None
        _server, _server_path = server, path
        atexit.register(_stop, server)
        return path


def environment() -> dict[str, str]:
    """What a dbt command's environment needs to reach this process's server (started on
    first use); nothing where there is none, and `atw-dbt` then runs dbt itself."""
    path = address()
    return {ADDRESS: path} if path else {}


def _wait_ready(server: subprocess.Popen) -> bool:
    ready, _, _ = select.select([server.stdout], [], [], STARTUP_TIMEOUT_SECONDS)
    return bool(ready) and server.stdout.readline() == READY


def _stop(server: subprocess.Popen) -> None:
    """Closing its stdin ends the server; commands it started finish on their own."""
    server.stdin.close()
    try:
        server.wait(timeout=5)
    except subprocess.TimeoutExpired:
        server.kill()


def _forget_after_fork() -> None:
    """A forked copy of this process starts a server of its own, and must not keep the
    parent's alive by holding its stdin open."""
    global _lock, _server, _server_path, _failed
    if _server is not None:
        _server.stdin.close()
        _server.stdout.close()
    _lock, _server, _server_path, _failed = threading.Lock(), None, None, False


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


# --- the server -------------------------------------------------------------------------------


def serve(path: str) -> int:
    """Import dbt, listen at `path`, fork a child per connection. Returns only in a child,
    with its command's exit status; the server itself ends when its parent closes its stdin."""
    import importlib

    for module in PRELOAD:
        importlib.import_module(module)
    # What the import built is shared with every child; frozen, the collector never touches
    # (and so never copies) those pages.
    gc.freeze()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(32)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    sys.stdout.buffer.write(READY)
    sys.stdout.flush()
    # One thread only, so that a fork copies no lock another thread holds: the parent's end
    # of stdin and the listener are watched together.
    while True:
        readable, _, _ = select.select([listener, 0], [], [])
        if 0 in readable and not os.read(0, 1024):
            os.unlink(path)
            os.rmdir(os.path.dirname(path))
            return 0
        if listener in readable:
            connection, _ = listener.accept()
            if os.fork() == 0:
                listener.close()
                return _child(connection)
            connection.close()


def _receive(connection: socket.socket) -> tuple[dict, list[int]]:
    header, fds, _, _ = socket.recv_fds(connection, _INT.size, 3)
    (size,) = _INT.unpack(_exact(connection, _INT.size - len(header), header))
    return json.loads(_exact(connection, size, b"")), fds


def _exact(connection: socket.socket, size: int, received: bytes) -> bytes:
    chunks = [received]
    while size > 0:
        chunk = connection.recv(min(size, 1 << 20))
        if not chunk:
            raise ConnectionError("the client went away")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _child(connection: socket.socket) -> int:
    """Become the client's `dbt` process: its streams, folder, environment and arguments,
    and the signal dispositions a fresh Python has (whatever the server inherited)."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    request, fds = _receive(connection)
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = ["dbt", *request["argv"]]
    connection.sendall(_INT.pack(os.getpid()))
    done = threading.Event()
    threading.Thread(target=_interrupt_if_orphaned, args=(connection, done), daemon=True).start()
    code = 1
    try:
        from dbt.cli.main import cli

        cli(request["argv"], prog_name="dbt")
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
    except KeyboardInterrupt:
        code = 130
    except BaseException:
        traceback.print_exc()
    finally:
        # The status goes out whatever happens now; the connection closes when this process
        # has exited, which is when the client returns.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        done.set()
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            connection.sendall(_INT.pack(code))
        except OSError:
            pass
    return code


def _interrupt_if_orphaned(connection: socket.socket, done: threading.Event) -> None:
    """A client that goes away before its command ends was killed: stop the command as dbt
    stops on Ctrl-C (it cancels its queries), and kill it if it does not stop."""
    try:
        connection.recv(1)
    except OSError:
        pass
    if done.is_set():
        return
    os.kill(os.getpid(), signal.SIGINT)
    if not done.wait(ORPHAN_GRACE_SECONDS):
        os.kill(os.getpid(), signal.SIGKILL)


# --- the client (`atw-dbt`) -------------------------------------------------------------------


def client(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # A caller may have closed a standard stream: the socket must not take its number.
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            os.open(os.devnull, os.O_RDWR)
    # Held until the command's pid is known, then passed on to it.
    signal.pthread_sigmask(signal.SIG_BLOCK, FORWARDED)
    path = os.environ.get(ADDRESS)
    connection = _connect(path) if path else None
    child = None
    if connection is not None:
        payload = json.dumps({"argv": argv, "env": dict(os.environ), "cwd": os.getcwd()}).encode()
        try:
            socket.send_fds(connection, [_INT.pack(len(payload))], [0, 1, 2])
            connection.sendall(payload)
        except OSError:
            pass
        child = _read_int(connection)
    if child is None:  # no server, or no command started: dbt itself
        signal.pthread_sigmask(signal.SIG_UNBLOCK, FORWARDED)
        dbt = real_dbt()
        os.execv(dbt, [dbt, *argv])
    forwarded: list[int] = []

    def forward(number: int, _frame) -> None:
        forwarded.append(number)
        try:
            os.kill(child, number)
        except ProcessLookupError:
            pass

    for number in FORWARDED:
        signal.signal(number, forward)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, FORWARDED)
    code = _read_int(connection)
    # Returns once the command's process has exited: its last output is written.
    _drain(connection)
    for number in FORWARDED:
        signal.signal(number, signal.SIG_DFL)
    if code is None and forwarded:
        # Killed by the signal passed on to it: end the same way, as dbt itself would have.
        os.kill(os.getpid(), forwarded[-1])
    return 1 if code is None else code


def _connect(path: str) -> socket.socket | None:
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.connect(path)
    except OSError:
        connection.close()
        return None
    return connection


def _read_int(connection: socket.socket) -> int | None:
    try:
        data = _exact(connection, _INT.size, b"")
    except OSError:
        return None
    return _INT.unpack(data)[0]


def _drain(connection: socket.socket) -> None:
    try:
        while connection.recv(1024):
            pass
    except OSError:
        pass
    connection.close()


def main() -> int:
    return client()


if __name__ == "__main__":
    sys.exit(serve(sys.argv[1]))
