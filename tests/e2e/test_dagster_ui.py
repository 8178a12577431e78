"""The Dagster UI works: `dagster dev` on the workspace, driven by headless Chromium.

The asset graph shows an ingestion asset, a dbt model and the checks on them; a materialization
launched from the UI goes through the queue and the daemon and succeeds. With
ATW_UPDATE_SCREENSHOT=1 the test also refreshes docs/dagster-asset-graph.png.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from orchestration.lib.instance import prepare_dagster_home
from tests.browser import chromium_page, skip_reason

if (_reason := skip_reason()) is not None:
    pytest.skip(_reason, allow_module_level=True)
_playwright = pytest.importorskip("playwright.sync_api")
expect = _playwright.expect
# Assertions wait like every other step (5 s by default): a busy machine answers slowly.
expect.set_options(timeout=60_000)

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "dagster-asset-graph.png"

INGESTION_ASSET = "raw/collector_events"
DBT_MODEL = "staging/stg_collector__telemetry_events"
CHECK = "gx_raw_collector_events"
# Unpartitioned (no partition dialog), and with an empty CLAUDE_PROJECTS_DIR it reads nothing:
# what is tested is the launch through queue, daemon and run worker into the warehouse.
CHEAP_ASSET = "raw/claude_code_lines"

SERVER_START_SECONDS = 120
# The run worker imports the definitions, then runs the steps in its own process
# (orchestration/definitions.py): tens of seconds on a busy 2-core machine.
RUN_SECONDS = 240

# Laid out horizontally, the whole graph is far taller than a screen; vertically it fits.
VERTICAL_GRAPH = "localStorage.setItem('asset-graph-direction', JSON.stringify('vertical'));"
FINAL_STATUS = re.compile(r"^(Success|Failure|Canceled)$")
LOCATIONS_QUERY = """{ workspaceOrError { __typename ... on Workspace { locationEntries {
    name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }"""


@dataclass(frozen=True)
class DagsterUI:
    url: str
    log: Path

    def log_tail(self, lines: int = 80) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(re.sub(r"\x1b\[[0-9;]*m", "", text).splitlines()[-lines:])


def _prepare_instance(monkeypatch, tmp_path: Path) -> None:
    """The instance `atw ui` configures (run queue and limits), in a DAGSTER_HOME of the test's."""
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.setenv("ATW_DAGSTER_STORAGE", "sqlite")  # never a shared PostgreSQL database
    home = prepare_dagster_home()
    with (home / "dagster.yaml").open("a") as config:
        # The community sign-up dialog would cover the page.
        config.write("nux:\n  enabled: false\n")


@pytest.fixture
def dagster_ui(urls, dbt_manifest, monkeypatch, tmp_path) -> Iterator[DagsterUI]:
    """`dagster dev` (webserver and daemon) on the test's databases and its own DAGSTER_HOME."""
    _prepare_instance(monkeypatch, tmp_path)
    claude_projects = tmp_path / "claude-projects"
    claude_projects.mkdir()
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "ATW_CLAUDE_PROJECTS_DIR": str(claude_projects),
        # dagster-dbt re-parses the project under `dagster dev`, running `dbt` from PATH.
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    port = _free_port()
    server = DagsterUI(f"http://127.0.0.1:{port}", tmp_path / "dagster-dev.log")
    with server.log.open("wb") as log:
        process = subprocess.Popen(
            [
                str(bin_dir / "dagster"),
                "dev",
                "-w",
                "workspace.yaml",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
            ],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: teardown reaches every child
        )
    try:
        _wait_until_loaded(server, process)
        yield server
    finally:
        _stop(process)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _graphql(url: str, query: str) -> dict | None:
    request = urllib.request.Request(
        f"{url}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)["data"]
    except (urllib.error.URLError, ConnectionError, TimeoutError, KeyError, ValueError):
        return None


def _wait_until_loaded(server: DagsterUI, process: subprocess.Popen) -> None:
    """Serving HTTP is not enough: the code location must have loaded, or say why not."""
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"dagster dev exited with {process.returncode}:\n{server.log_tail()}")
        data = _graphql(server.url, LOCATIONS_QUERY) or {}
        entries = data.get("workspaceOrError", {}).get("locationEntries") or []
        if entries and all(entry["loadStatus"] == "LOADED" for entry in entries):
            errors = [
                entry["locationOrLoadError"]["message"]
                for entry in entries
                if entry["locationOrLoadError"]["__typename"] == "PythonError"
            ]
            if errors:
                pytest.fail("code location failed to load:\n" + "\n".join(errors))
            return
        time.sleep(1)
    pytest.fail(f"dagster dev not ready after {SERVER_START_SECONDS} s:\n{server.log_tail()}")


def _stop(process: subprocess.Popen) -> None:
    # A shell that started pytest in the background may have left SIGTERM ignored for its
    # children; SIGKILL then follows, and also sweeps children the leader left behind.
    for sig, grace in ((signal.SIGTERM, 15), (signal.SIGKILL, 10)):
        with suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with suppress(subprocess.TimeoutExpired):
            process.wait(grace)


@contextmanager
def _diagnostics(page, server: DagsterUI, tmp_path: Path):
    try:
        yield
    except Exception:
        shot = tmp_path / "failure.png"
        with suppress(Exception):
            page.screenshot(path=str(shot))
            print(f"failure screenshot: {shot}")
        with suppress(Exception):
            print(f"page {page.url}:\n{page.inner_text('body')[:4000]}")
        print(f"--- dagster dev log (tail) ---\n{server.log_tail()}")
        raise


def _wait_for_graph(page, settle_checks: int = 3) -> None:
    """Until the graph's nodes are drawn and their number stops changing (layout is async)."""
    nodes = page.locator("foreignObject")
    nodes.first.wait_for()
    counts: list[int] = []
    while len(counts) < settle_checks or len(set(counts[-settle_checks:])) > 1:
        counts.append(nodes.count())
        page.wait_for_timeout(500)


def _expand_all_groups(page) -> None:
    # ⌥E is the graph's own "Expand all groups" shortcut; the new layout is zoomed to fit.
    _wait_for_graph(page)
    page.keyboard.press("Alt+e")
    page.wait_for_url(re.compile(r"[?&]expanded="))
    _wait_for_graph(page)


def _graph_node(page, key: str):
    name = key.rsplit("/", 1)[-1]
    return page.locator("foreignObject").filter(has=page.get_by_text(name, exact=True))


def _check_asset_graph(page, base: str) -> None:
    selection = f'key:"{INGESTION_ASSET}" or key:"{DBT_MODEL}"'
    page.goto(f"{base}/asset-groups~{quote(selection, safe='')}")
    _expand_all_groups(page)
    ingestion, model = _graph_node(page, INGESTION_ASSET), _graph_node(page, DBT_MODEL)
    expect(ingestion).to_contain_text("Python")
    expect(model).to_contain_text("dbt")
    # Checks are not nodes of their own: an asset node has a row linking to its checks.
    ingestion.get_by_role("link", name=re.compile(r"\d+ \/ \d+")).click()
    expect(page.get_by_text(CHECK, exact=True).first).to_be_visible()


def _launch_materialization(page, base: str, key: str) -> str:
    page.goto(f"{base}/assets/{key}")
    page.get_by_role("button", name=re.compile(r"\bMaterialize$")).click()
    # The toast that confirms the launch links to the run.
    toast = page.get_by_role("region", name=re.compile("Notifications"))
    expect(toast).to_contain_text("Launched run")
    href = toast.get_by_role("link", name="View").get_attribute("href")
    assert href and href.startswith("/runs/"), href
    return href.rsplit("/", 1)[-1]


def _wait_for_run(page, url: str) -> str:
    page.goto(url)
    status = page.get_by_text(FINAL_STATUS).first
    deadline = time.monotonic() + RUN_SECONDS
    while True:
        try:
            status.wait_for(timeout=30_000)
            return status.inner_text()
        except _playwright.TimeoutError:
            if time.monotonic() > deadline:
                raise
            page.reload()  # the page follows the run over a websocket; a reload covers a drop


def _screenshot_lineage(page, base: str, path: Path) -> None:
    page.goto(f"{base}/asset-groups")
    _wait_for_graph(page)
    # The navigation and the asset sidebar only take room from the graph.
    page.get_by_role("button", name=re.compile("Hide navigation")).click()
    page.get_by_role("button", name="panel_show_right").click()
    _expand_all_groups(page)
    page.screenshot(path=str(path))


@contextmanager
def _browser(server: DagsterUI, tmp_path: Path):
    # Twice the pixels: the whole graph only fits the window zoomed out, names stay legible.
    with chromium_page(scale=2, init_script=VERTICAL_GRAPH) as page:
        page.set_default_timeout(60_000)
        with _diagnostics(page, server, tmp_path):
            yield page


def test_asset_graph_and_a_materialization_launched_from_the_ui(dagster_ui, tmp_path):
    with _browser(dagster_ui, tmp_path) as page:
        _check_asset_graph(page, dagster_ui.url)
        run_id = _launch_materialization(page, dagster_ui.url, CHEAP_ASSET)
        status = _wait_for_run(page, f"{dagster_ui.url}/runs/{run_id}")
        assert status == "Success", f"run {run_id} of {CHEAP_ASSET} ended: {status}"
    screenshot = tmp_path / SCREENSHOT.name
    # A fresh profile: the browser remembers which groups were expanded, and ⌥E toggles.
    with _browser(dagster_ui, tmp_path) as page:
        _screenshot_lineage(page, dagster_ui.url, screenshot)
    if os.environ.get("ATW_UPDATE_SCREENSHOT") == "1":
        SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(screenshot, SCREENSHOT)
