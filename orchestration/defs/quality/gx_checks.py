"""GX suites as Dagster asset checks: per suite, a blocking check and a warning check."""

import json
from datetime import datetime

import dagster as dg

from expectations import windows
from expectations.results_store import store
from expectations.runner import SuiteOutcome, run_suite
from expectations.suites import SuiteSpec
from ingestion.core.connections import connect
from orchestration.lib import validation_scope
from orchestration.lib.resources import TelemetryDatabases

SHOWN_FAILURES = 10


def _since(context, conn, spec: SuiteSpec, name: str, blocking: bool) -> datetime | None:
    """Where the validation's window starts, or None when it reads the whole table."""
    if not blocking or spec.window is None or validation_scope.is_full(context):
        return None
    return windows.watermark(conn, name)


def _metadata(spec: SuiteSpec, outcome: SuiteOutcome, stored: int, since: datetime | None) -> dict:
    metadata: dict = {
        "suite": spec.name,
        "stage": spec.stage,
        "rows_validated": "whole table"
        if since is None
        else f"written since {since.isoformat(timespec='seconds')}",
        "expectations_evaluated": outcome.evaluated,
        "expectations_failed": len(outcome.failed),
        "results_stored": dg.MetadataValue.int(stored),
    }
    for index, failed in enumerate(outcome.failed[:SHOWN_FAILURES]):
        prefix = f"failed_{index + 1}"
        metadata[f"{prefix}_expectation"] = failed.expectation
        metadata[f"{prefix}_rule"] = failed.description or failed.column or ""
        metadata[f"{prefix}_column"] = failed.column or ""
        metadata[f"{prefix}_observed_value"] = json.dumps(failed.observed_value, default=str)
        metadata[f"{prefix}_failing_keys"] = dg.MetadataValue.json(failed.failing_keys)
    return metadata


def check_name(spec: SuiteSpec, blocking: bool) -> str:
    return f"gx_{spec.name}" if blocking else f"gx_{spec.name}_warnings"


def gx_check(spec: SuiteSpec, blocking: bool) -> dg.AssetChecksDefinition:
    name = check_name(spec, blocking)
    kind = "blocking: holds back downstream assets" if blocking else "warning only"

    @dg.asset_check(
        asset=dg.AssetKey(spec.asset_key_path),
        name=name,
        blocking=blocking,
        description=f"Great Expectations suite `{spec.name}` ({spec.stage} stage, {kind}).",
    )
    def _check(
        context: dg.AssetCheckExecutionContext, databases: TelemetryDatabases
    ) -> dg.AssetCheckResult:
        url = databases.urls().warehouse
        with connect(url) as conn:
            since = _since(context, conn, spec, name, blocking)
            where = None if since is None else spec.window.predicate(conn, since)
            started = windows.horizon(conn)
        outcome = run_suite(url, spec, blocking=blocking, where=where)
        with connect(url) as conn:
            stored = store(conn, context.run.run_id, name, spec, blocking, outcome)
            if outcome.success and blocking and spec.window is not None:
                windows.passed(conn, name, started, "table" if since is None else "window")
        return dg.AssetCheckResult(
            passed=outcome.success,
            severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
            metadata=_metadata(spec, outcome, stored, since),
        )

    return _check


def gx_checks(suites) -> list[dg.AssetChecksDefinition]:
    return [
        gx_check(spec, blocking)
        for spec in suites
        for blocking in (True, False)
        if blocking or spec.has_warnings
    ]
