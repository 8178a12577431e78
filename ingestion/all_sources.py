"""Every source in one call: what `atw load` and the tests run without Dagster or dbt."""

from __future__ import annotations

from ingestion import claude_code, collector_events, collector_transcripts, file_drops
from ingestion.connections import connect
from ingestion.load_log import LoadCounts
from ingestion.settings import Urls


def load_all_sources(urls: Urls, run_id: str) -> list[LoadCounts]:
    with connect(urls.collector) as source, connect(urls.warehouse) as warehouse:
        events = collector_events.pull_events(source, warehouse, run_id)
        transcripts, messages = collector_transcripts.pull_transcripts(source, warehouse, run_id)
        landed = file_drops.load_landing_dir(warehouse, run_id)
        claude = claude_code.load_projects(warehouse, run_id)
    return [events, transcripts, messages, *landed.values(), claude]
