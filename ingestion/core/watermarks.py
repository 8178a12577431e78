"""Per-source high-water marks, written in the same transaction as the rows they cover."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Watermark:
    high_id: int | None
    high_at: datetime | None


def read(conn, source: str) -> Watermark:
    row = conn.execute(
        "select high_id, high_at from raw.watermarks where source = %s", (source,)
    ).fetchone()
    return Watermark(*row) if row else Watermark(None, None)


def advance(conn, source: str, high_id: int | None, high_at: datetime | None) -> None:
    """Move the mark forward only: a rerun over an older window never rewinds it."""
    conn.execute(
        """
        insert into raw.watermarks as w (source, high_id, high_at, updated_at)
        values (%s, %s, %s, now())
        on conflict (source) do update set
            high_id = greatest(w.high_id, excluded.high_id),
            high_at = greatest(w.high_at, excluded.high_at),
            updated_at = now()
        """,
        (source, high_id, high_at),
    )


def lock(conn, source: str) -> None:
    """Transaction-scoped advisory lock: concurrent loads of one source run one after another."""
    conn.execute("select pg_advisory_xact_lock(hashtext('atw:' || %s))", (source,))


def write_horizon(conn, hours: float) -> datetime:
    """A time before which every row stamped with its transaction's start is visible now
    (raw.write_horizon: the start of the oldest transaction still open, at most `hours` ago),
    on the database's clock, which stamps the rows."""
    return conn.execute(
        "select raw.write_horizon(make_interval(secs => %s))", (float(hours) * 3600,)
    ).fetchone()[0]
