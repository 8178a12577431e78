"""Landing files: processed once per content; a changed file replaces its previous rows."""

import json
import os
from pathlib import Path

from ingestion.core.connections import connect
from ingestion.file_drops.loader import load_landing_dir


def _event(n: int, decision: str = "APPROVE") -> dict:
    return {
        "hostId": "laptop",
        "sessionId": "s1",
        "eventType": "hook_decision",
        "agentName": "tool-approve",
        "decision": decision,
        "latencyMs": 10 + n,
        "timestamp": f"2026-11-10T10:00:{n:02d}Z",
    }


def _metric(event_id: str) -> str:
    return json.dumps(
        {
            "metric": "task_success",
            "timestamp": 1762768800000,
            "value": {"eventId": event_id, "agentId": "bot"},
        }
    )


def test_unchanged_files_are_skipped_and_changed_files_replace_their_rows(urls):
    landing = Path(os.environ["ATW_LANDING_DIR"])
    batch = landing / "batch.json"
    batch.write_text(json.dumps({"events": [_event(1), _event(2), _event(3)]}))
    (landing / "a.ndjson").write_text(_metric("e1") + "\n" + _metric("e2") + "\n")
    (landing / "b.jsonl").write_text(_metric("e2") + "\n" + _metric("e3") + "\n")
    (landing / "notes.txt").write_text("not telemetry")

    with connect(urls.warehouse) as warehouse:
        first = load_landing_dir(warehouse, "first")
        assert first["landing.collector_batches"].rows_loaded == 3
        metrics = first["landing.metric_events"]
        # e2 arrives twice: eventId makes the second one a duplicate.
        assert (metrics.rows_read, metrics.rows_loaded, metrics.rows_skipped_duplicate) == (4, 3, 1)

        again = load_landing_dir(warehouse, "again")
        assert all(c.rows_read == 0 for c in again.values())

        batch.write_text(json.dumps({"events": [_event(1, "DENY"), _event(2)]}))
        changed = load_landing_dir(warehouse, "changed")
        assert changed["landing.collector_batches"].rows_loaded == 2
        assert changed["landing.metric_events"].rows_read == 0
        rows = warehouse.execute(
            "select event_index, decision, _run_id from raw.landed_collector_events "
            "order by event_index"
        ).fetchall()
        assert rows == [(0, "DENY", "changed"), (1, "APPROVE", "changed")]
        files = warehouse.execute(
            "select file_path, run_id from raw.landed_files order by file_path"
        ).fetchall()
        assert files == [("a.ndjson", "first"), ("b.jsonl", "first"), ("batch.json", "changed")]
