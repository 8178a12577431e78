"""Acknowledging alerts: rows in ops.alert_acknowledgements, a table dbt reads but never builds,
so an acknowledgement survives every rebuild of marts.fct_alerts (whose ids are stable)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg


class AlertNotFound(LookupError):
    pass


@dataclass(frozen=True)
class Acknowledgement:
    alert_id: str
    acknowledged_by: str
    acknowledged_at: datetime
    note: str | None
    is_new: bool


def acknowledge(
    conn: psycopg.Connection, alert_id: str, by: str, note: str | None = None
) -> Acknowledgement:
    """Acknowledge the alert whose id is or starts with `alert_id` (at least 8 characters).
    The first acknowledgement stands: acknowledging again returns it unchanged."""
    if not by.strip():
        raise ValueError("say who acknowledges the alert (--by)")
    if len(alert_id) < 8:
        raise ValueError("give at least the first 8 characters of the alert id")
    # The marts exist only after dbt has read ops.alert_acknowledgements, so it exists too.
    if conn.execute("select to_regclass('marts.fct_alerts')").fetchone()[0] is None:
        raise AlertNotFound("marts.fct_alerts does not exist yet: run the pipeline first")
    matches = [
        row[0]
        for row in conn.execute(
            "select alert_id from marts.fct_alerts where alert_id like %s || '%%' limit 2",
            (alert_id,),
        )
    ]
    if not matches:
        raise AlertNotFound(f"no alert {alert_id!r} in marts.fct_alerts")
    if len(matches) > 1:
        raise AlertNotFound(f"{alert_id!r} matches several alerts: give more of the id")
    with conn.transaction():
        inserted = conn.execute(
            "insert into ops.alert_acknowledgements (alert_id, acknowledged_by, note) "
            "values (%s, %s, %s) on conflict (alert_id) do nothing returning alert_id",
            (matches[0], by.strip(), note),
        ).fetchone()
        row = conn.execute(
            "select alert_id, acknowledged_by, acknowledged_at, note "
            "from ops.alert_acknowledgements where alert_id = %s",
            (matches[0],),
        ).fetchone()
    return Acknowledgement(*row, is_new=inserted is not None)
