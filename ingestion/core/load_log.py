"""One row per load in `raw.load_log`: what was read and what became of every row."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, fields
from datetime import datetime

from psycopg import sql

COUNT_FIELDS = (
    "rows_read",
    "rows_loaded",
    "rows_quarantined",
    "rows_skipped_duplicate",
    "rows_inserted",
    "rows_updated",
)


@dataclass
class LoadCounts:
    source: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_skipped_duplicate: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0

    def add(self, other: LoadCounts) -> None:
        for name in COUNT_FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def balanced(self) -> bool:
        return (
            self.rows_read == self.rows_loaded + self.rows_quarantined + self.rows_skipped_duplicate
            and self.rows_loaded == self.rows_inserted + self.rows_updated
        )


assert {f.name for f in fields(LoadCounts)} == {"source", *COUNT_FIELDS}


def record(conn, run_id: str, counts: LoadCounts, started_at: datetime) -> None:
    """Write the counts; the table's check constraint refuses an unbalanced load."""
    if not counts.balanced:
        raise AssertionError(f"load of {counts.source} does not account for every row: {counts}")
    conn.execute(
        sql.SQL("""
        insert into raw.load_log (run_id, source, started_at, finished_at, {counts})
        values (%s, %s, %s, clock_timestamp(), {values})
        """).format(
            counts=sql.SQL(", ").join(map(sql.Identifier, COUNT_FIELDS)),
            values=sql.SQL(", ").join([sql.Placeholder()] * len(COUNT_FIELDS)),
        ),
        (run_id, counts.source, started_at, *(getattr(counts, f) for f in COUNT_FIELDS)),
    )


def record_redactions(conn, run_id: str, source: str, counts: Counter) -> None:
    if counts:
        with conn.cursor() as cursor:
            cursor.executemany(
                "insert into raw.redaction_log (run_id, source, kind, redactions) "
                "values (%s, %s, %s, %s)",
                [(run_id, source, kind, n) for kind, n in sorted(counts.items())],
            )
