"""Every source in one call: what `atw load` and the tests run without Dagster or dbt.

Each source loads on its own connections: one that fails (an unreachable collector, say) is
reported after the others have loaded, never instead of them.
"""

from __future__ import annotations

from collections.abc import Callable

from ingestion.agent_cli import loader as agent_cli
from ingestion.claude_code import loader as claude_code
from ingestion.collector import events as collector_events
from ingestion.collector import transcripts as collector_transcripts
from ingestion.core.connections import connect
from ingestion.core.load_errors import describe
from ingestion.core.load_log import LoadCounts
from ingestion.core.raw_schema import ensure_raw_schema
from ingestion.core.settings import Urls, skipped_sources
from ingestion.file_drops import loader as file_drops
from ingestion.prices import catalogue as price_catalogue


class SourcesFailed(RuntimeError):
    """Some sources failed; `counts` holds what the others loaded."""

    def __init__(self, failures: dict[str, str], counts: list[LoadCounts]):
        super().__init__("; ".join(f"{name}: {why}" for name, why in failures.items()))
        self.failures = failures
        self.counts = counts


def _collector_events(urls: Urls, run_id: str) -> list[LoadCounts]:
    with connect(urls.collector) as source, connect(urls.warehouse) as warehouse:
        return [collector_events.pull_events(source, warehouse, run_id, reconcile_all=True)]


def _collector_transcripts(urls: Urls, run_id: str) -> list[LoadCounts]:
    with connect(urls.collector) as source, connect(urls.warehouse) as warehouse:
        return list(collector_transcripts.pull_transcripts(source, warehouse, run_id))


def _landing_files(urls: Urls, run_id: str) -> list[LoadCounts]:
    with connect(urls.warehouse) as warehouse:
        return list(file_drops.load_landing_dir(warehouse, run_id, reconcile_all=True).values())


def _claude_code(urls: Urls, run_id: str) -> list[LoadCounts]:
    with connect(urls.warehouse) as warehouse:
        return [claude_code.load_projects(warehouse, run_id, reconcile_all=True)]


def _agent_cli(urls: Urls, run_id: str) -> list[LoadCounts]:
    with connect(urls.warehouse) as warehouse:
        return agent_cli.load_all(warehouse, run_id, reconcile_all=True)


def _model_prices(urls: Urls, run_id: str) -> list[LoadCounts]:
    """The prices of the model names loaded (the `raw/model_price_catalogue` asset)."""
    with connect(urls.warehouse) as warehouse:
        ensure_raw_schema(warehouse)
        price_catalogue.refresh(warehouse, price_catalogue.logged_model_names(warehouse))
    return []


# name, the settings' name of its source (skipped_sources), loader
LOADERS: list[tuple[str, str, Callable[[Urls, str], list[LoadCounts]]]] = [
    (collector_events.SOURCE, "collector", _collector_events),
    (collector_transcripts.SOURCE, "collector", _collector_transcripts),
    ("landing", "landing", _landing_files),
    (claude_code.SOURCE, "claude_code", _claude_code),
    ("agent CLIs", "agent_cli", _agent_cli),
    ("model prices", "", _model_prices),  # after the loads: the names they brought
]


def load_all_sources(
    urls: Urls, run_id: str, skipped: dict[str, str] | None = None
) -> list[LoadCounts]:
    """Load every configured source; SourcesFailed (after all of them ran) if any failed.
    Sources that are not configured are left out, their reasons added to `skipped`."""
    counts: list[LoadCounts] = []
    failures: dict[str, str] = {}
    not_configured = skipped_sources(urls)
    for name, source, load in LOADERS:
        if source in not_configured:
            if skipped is not None:
                skipped[source] = not_configured[source]
            continue
        try:
            counts += load(urls, run_id)
        except Exception as error:  # noqa: BLE001 - reported once the other sources loaded
            failures[name] = describe(error)
    if failures:
        raise SourcesFailed(failures, counts)
    return counts
