"""GX suites as Dagster asset checks, one per suite, on the asset the suite validates."""


import json

import dagster as dg

from expectations.runner import SuiteOutcome, run_suite
from expectations.suites import SuiteSpec
from orchestration.resources import TelemetryDatabases


def _metadata(outcome: SuiteOutcome) -> dict:
    metadata: dict = {
        "expectations_evaluated": outcome.evaluated,
        "expectations_failed": len(outcome.failed),
    }
    for index, failed in enumerate(outcome.failed[:10]):
        prefix = f"failed_{index + 1}"
        metadata[f"{prefix}_expectation"] = failed.expectation
        metadata[f"{prefix}_column"] = failed.column or ""
        metadata[f"{prefix}_observed_value"] = json.dumps(failed.observed_value, default=str)
        metadata[f"{prefix}_failing_keys"] = dg.MetadataValue.json(failed.failing_keys)
    return metadata


def gx_check(spec: SuiteSpec) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(spec.asset_key_path),
        name=f"gx_{spec.name}",
        blocking=spec.blocking,
        description=f"Great Expectations suite `{spec.name}` ({spec.stage} stage).",
    )
    def _check(databases: TelemetryDatabases) -> dg.AssetCheckResult:
        outcome = run_suite(databases.urls().warehouse, spec)
        return dg.AssetCheckResult(
            passed=outcome.success,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata=_metadata(outcome),
        )

    return _check
