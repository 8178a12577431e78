"""Every validation result, stored in `ops.dq_validation_results` for analysts and dashboards."""

from __future__ import annotations

import json

from expectations.runner import SuiteOutcome
from expectations.suites import SuiteSpec


def store(
    conn, run_id: str, check_name: str, spec: SuiteSpec, blocking: bool, outcome: SuiteOutcome
) -> int:
    """One row per expectation evaluated; returns how many were written."""
    rows = [
        (
            run_id,
            spec.name,
            check_name,
            spec.stage,
            f"{spec.schema}.{spec.table}",
            "blocking" if blocking else "warning",
            item.expectation,
            item.column,
            item.description,
            item.success,
            json.dumps(item.observed_value, default=str),
            json.dumps(item.failing_keys, default=str),
        )
        for item in outcome.outcomes
    ]
    with conn.cursor() as cursor:
        cursor.executemany(
            """
            insert into ops.dq_validation_results (run_id, suite, check_name, stage,
                table_name, severity, expectation, column_name, description, success,
                observed_value, failing_keys)
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb)
            """,
            rows,
        )
    return len(rows)
