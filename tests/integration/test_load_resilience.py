"""Loads survive a real kill, run safely side by side, and keep secrets out of the warehouse."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg

from devtools.sample_data.landing_generator import LandingConfig, write_landing_files
from ingestion.all_sources import load_all_sources
from ingestion.core.connections import connect, target
from ingestion.core.settings import Urls
from tests.conftest import SAMPLE_END, content_checksums
from warehouse.embedded_server import ensure_database

KILLABLE_LOAD = (
    "from ingestion.all_sources import load_all_sources\n"
    "from ingestion.core.settings import resolve_urls\n"
    "load_all_sources(resolve_urls(), 'doomed-run')\n"
)


def _twin_warehouse(pg_base_url: str, urls: Urls) -> Urls:
    """Another warehouse on the same collector and landing files, for a reference run."""
    twin = ensure_database(pg_base_url, target(urls.warehouse).dbname + "_twin")
    return Urls(warehouse=twin, collector=urls.collector)


def _watermark(url: str, source: str):
    try:
        with connect(url) as conn:
            return conn.execute(
                "select high_id from raw.watermarks where source = %s", (source,)
            ).fetchone()
    except psycopg.errors.UndefinedTable:
        return None


def test_killed_load_then_rerun_equals_an_uninterrupted_load(small_collector, pg_base_url):
    write_landing_files(
        Path(os.environ["ATW_LANDING_DIR"]),
        LandingConfig(seed=4, batch_files=4, metric_files=3, end=SAMPLE_END),
    )
    env = dict(os.environ, ATW_TRANSCRIPT_BATCH_SIZE="1")
    process = subprocess.Popen([sys.executable, "-c", KILLABLE_LOAD], env=env)
    deadline = time.monotonic() + 120
    while _watermark(small_collector.warehouse, "collector.session_transcripts") is None:
        assert process.poll() is None, "the load finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    with connect(small_collector.warehouse) as conn:
        partial = conn.execute("select count(*) from raw.collector_session_transcripts").fetchone()[
            0
        ]
    with connect(small_collector.collector) as conn:
        total = conn.execute("select count(*) from session_transcripts").fetchone()[0]
    assert 0 < partial < total, "the kill landed in the middle of the transcript load"

    load_all_sources(small_collector, "rerun")
    reference = _twin_warehouse(pg_base_url, small_collector)
    load_all_sources(reference, "uninterrupted")
    assert content_checksums(small_collector.warehouse) == content_checksums(reference.warehouse)


def test_concurrent_loads_do_not_duplicate(small_collector, pg_base_url):
    write_landing_files(
        Path(os.environ["ATW_LANDING_DIR"]),
        LandingConfig(seed=5, batch_files=4, metric_files=3, end=SAMPLE_END),
    )
    results, errors = [], []

    def load(run_id):
        try:
            results.append(load_all_sources(small_collector, run_id))
        except Exception as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=load, args=(f"run-{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    reference = _twin_warehouse(pg_base_url, small_collector)
    load_all_sources(reference, "alone")
    assert content_checksums(small_collector.warehouse) == content_checksums(reference.warehouse)
    # Between them the two runs loaded each row once.
    loaded = {}
    for run in results:
        for counts in run:
            loaded[counts.source] = loaded.get(counts.source, 0) + counts.rows_loaded
    with connect(small_collector.collector) as conn:
        events = conn.execute("select count(*) from telemetry_events").fetchone()[0]
    assert loaded["collector.telemetry_events"] == events
