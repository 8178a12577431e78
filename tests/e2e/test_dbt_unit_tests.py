"""dbt's unit tests (the `unit_tests:` of the models' YAML) run here, not in the pipeline's
runs (orchestration/defs/dbt/assets.py excludes them there): every one of them, on a copy of a
built warehouse, whose relations give the mocked inputs their column types."""

import json

from ingestion.core.settings import DBT_PROJECT_DIR
from orchestration.defs.dbt.manifest import run_dbt


def _unit_tests_in_manifest() -> set[str]:
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    return {test["name"] for test in manifest.get("unit_tests", {}).values()}


def test_every_dbt_unit_test_passes(secured_clone, tmp_path):
    expected = _unit_tests_in_manifest()
    assert len(expected) >= 12
    completed = run_dbt(
        secured_clone.warehouse,
        ["test", "--select", "test_type:unit"],
        "target/unit-tests",
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stdout[-4000:]
    results = json.loads((DBT_PROJECT_DIR / "target/unit-tests/run_results.json").read_text())
    ran = {r["unique_id"].split(".")[-1] for r in results["results"] if r["status"] == "pass"}
    assert ran == expected
