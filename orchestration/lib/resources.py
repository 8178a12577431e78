"""Resources: where the warehouse and the collector are, resolved when a run starts."""

from __future__ import annotations

import dagster as dg

from ingestion.core.settings import Urls, resolve_urls


class TelemetryDatabases(dg.ConfigurableResource):
    """ATW_WAREHOUSE_URL and ATW_COLLECTOR_URL; empty means the embedded server's databases."""

    warehouse_url: str = ""
    collector_url: str = ""

    def urls(self) -> Urls:
        resolved = resolve_urls()
        return Urls(
            warehouse=self.warehouse_url or resolved.warehouse,
            collector=self.collector_url or resolved.collector,
        )
