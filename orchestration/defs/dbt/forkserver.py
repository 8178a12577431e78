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

Only the standard library is imported here: the client must start in milliseconds.
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
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
_INT = struct.Struct("!i")

_lock = threading.Lock()
_server: subprocess.Popen | None = None
_server_owner: int | None = None
_server_path: str | None = None


def real_dbt() -> str:
    """The `dbt` installed beside this Python."""
    return str(Path(sys.executable).with_name("dbt"))


def executable() -> str:
    """What to run as `dbt`: `atw-dbt` where it is installed (beside this Python), else dbt."""
    client = Path(sys.executable).with_name("atw-dbt")
    return str(client) if client.exists() else real_dbt()


# --- in the process that runs dbt commands -------------------------------------------------


def address() -> str | None:
    """The socket of this process's dbt server, started on first use; None where it cannot
    run (no fork, or it failed to start), and dbt then starts cold."""
    global _server, _server_owner, _server_path
    if not hasattr(os, "fork"):
        return None
    with _lock:
        if _server is not None and _server_owner == os.getpid() and _server.poll() is None:
            return _server_path
        path = os.path.join(tempfile.mkdtemp(prefix="atw-dbt-"), "server.sock")
        server = subprocess.Popen(
            [sys.executable, "-m", __name__, path],
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
            return None
        _server, _server_owner, _server_path = server, os.getpid(), path
        atexit.register(_stop, server)
        return path


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


# --- the server -------------------------------------------------------------------------------


def serve(path: str) -> int:
    """Import dbt, listen at `path`, fork a child per connection. Returns only in a child,
    with its command's exit status; the server itself ends when its parent closes stdin."""
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
    threading.Thread(target=_end_with_parent, args=(path,), daemon=True).start()
    sys.stdout.buffer.write(READY)
    sys.stdout.flush()
    while True:
        connection, _ = listener.accept()
        if os.fork() == 0:
            listener.close()
            return _child(connection)
        connection.close()


def _end_with_parent(path: str) -> None:
    # os.read, not sys.stdin: a child forked while this thread held stdin's buffer lock could
    # never take it again, and Python takes it when it exits.
    while os.read(0, 1024):
        pass
    try:
        os.unlink(path)
        os.rmdir(os.path.dirname(path))
    finally:
        os._exit(0)


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
    """Become the client's `dbt` process: its streams, folder, environment and arguments."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
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
    watcher = threading.Thread(target=_interrupt_if_orphaned, args=(connection, done))
    watcher.start()
    from dbt.cli.main import cli

    try:
        cli(request["argv"], prog_name="dbt")
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
    except KeyboardInterrupt:
        code = 130
    done.set()
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        connection.sendall(_INT.pack(code))
        connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    watcher.join()
    return code


def _interrupt_if_orphaned(connection: socket.socket, done: threading.Event) -> None:
    """A client that goes away before its command ends was killed: stop the command as dbt
    stops on Ctrl-C (it cancels its queries)."""
    try:
        connection.recv(1)
    except OSError:
        pass
    if not done.is_set():
        os.kill(os.getpid(), signal.SIGINT)


# --- the client (`atw-dbt`) -------------------------------------------------------------------


def client(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    path = os.environ.get(ADDRESS)
    connection = _connect(path) if path else None
    if connection is None:
        dbt = real_dbt()
        os.execv(dbt, [dbt, *argv])
    with connection:
        payload = json.dumps({"argv": argv, "env": dict(os.environ), "cwd": os.getcwd()}).encode()
        socket.send_fds(connection, [_INT.pack(len(payload))], [0, 1, 2])
        connection.sendall(payload)
        child = _read_int(connection)
        if child is None:
            print("atw-dbt: the dbt server could not start the command", file=sys.stderr)
            return 1
        for number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(number, lambda received, _frame: os.kill(child, received))
        code = _read_int(connection)
    # No status: the command was killed before it could send one.
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
    except (ConnectionError, OSError):
        return None
    return _INT.unpack(data)[0]


def main() -> int:
    return client()


if __name__ == "__main__":
    sys.exit(serve(sys.argv[1]))
