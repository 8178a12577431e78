"""The per-source table that `atw run`, `atw load`, `atw demo` and `atw backfill` end with:
what each source read, loaded, quarantined and skipped as a duplicate, or why it was skipped.
A run that loaded nothing must not look like any other."""

from __future__ import annotations

from dataclasses import dataclass

# The raw assets whose materializations carry a source's counts, in the order shown.
SOURCE_ASSETS = {
    "raw/collector_events": "collector events",
    "raw/collector_session_transcripts": "collector transcripts",
    "raw/landed_collector_events": "landing batch files",
    "raw/landed_metric_events": "landing metric files",
    "raw/claude_code_lines": "Claude Code logs",
    "raw/agent_cli_usage": "agent CLI logs",
}


@dataclass(frozen=True)
class Row:
    source: str
    read: int = 0
    loaded: int = 0
    quarantined: int = 0
    duplicates: int = 0
    skipped: str = ""  # why the source was not read (not configured)

    @classmethod
    def of(cls, counts, source: str | None = None) -> Row:
        return cls(
            source or counts.source,
            counts.rows_read,
            counts.rows_loaded,
            counts.rows_quarantined,
            counts.rows_skipped_duplicate,
        )

    @classmethod
    def from_metadata(cls, source: str, metadata: dict) -> Row:
        def number(name: str) -> int:
            value = metadata.get(name)
            return int(getattr(value, "value", value) or 0)

        skipped = metadata.get("skipped")
        return cls(
            source,
            number("rows_read"),
            number("rows_loaded"),
            number("rows_quarantined"),
            number("rows_skipped_duplicate"),
            str(getattr(skipped, "value", skipped) or ""),
        )


def rows_of_run(events) -> list[Row]:
    """One row per source asset materialized in a Dagster run's events."""
    found = {}
    for event in events:
        if event.event_type_value != "ASSET_MATERIALIZATION":
            continue
        materialization = event.event_specific_data.materialization
        name = materialization.asset_key.to_user_string()
        if name in SOURCE_ASSETS:
            found[name] = Row.from_metadata(SOURCE_ASSETS[name], materialization.metadata)
    return [found[name] for name in SOURCE_ASSETS if name in found]


def warnings(rows: list[Row]) -> list[str]:
    return [
        f"warning: {row.source} is configured but read nothing new"
        for row in rows
        if not row.skipped and row.read == 0
    ]


def render(rows: list[Row]) -> str:
    """A fixed-width table, then one line per warning."""
    lines = [f"{'source':<24}{'read':>11}{'loaded':>11}{'quarantined':>13}{'duplicates':>12}"]
    for row in rows:
        if row.skipped:
            lines.append(f"{row.source:<24}skipped: {row.skipped}")
            continue
        lines.append(
            f"{row.source:<24}{row.read:>11,}{row.loaded:>11,}"
            f"{row.quarantined:>13,}{row.duplicates:>12,}"
        )
    return "\n".join(lines + warnings(rows))
