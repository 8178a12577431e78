"""One row per load in `raw.load_log`: what was read and what became of it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime


@dataclass
class LoadCounts:
    source: str
    rows_read: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0
    rows_duplicate: int = 0
    rows_quarantined: int = 0

    def add(self, other: LoadCounts) -> None:
        for name in ("rows_read", "rows_inserted", "rows_updated", "rows_unchanged",
                     "rows_duplicate", "rows_quarantined"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict:
        return asdict(self)


def record(conn, run_id: str, counts: LoadCounts, started_at: datetime) -> None:
    conn.execute(
        """
        insert into raw.load_log (run_id, source, started_at, finished_at, rows_read,
            rows_inserted, rows_updated, rows_unchanged, rows_duplicate, rows_quarantined)
        values (%s, %s, %s, clock_timestamp(), %s, %s, %s, %s, %s, %s)
        """,
        (run_id, counts.source, started_at, counts.rows_read, counts.rows_inserted,
         counts.rows_updated, counts.rows_unchanged, counts.rows_duplicate,
         counts.rows_quarantined),
    )
