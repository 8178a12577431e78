"""File-drop records: each kind of bad input gets its reason; good ones are normalised."""

import json
import random
from datetime import UTC, datetime

import pytest

from ingestion import landing_parsers
from ingestion.quarantine import RowRejected
from ingestion.sample_data.landing_generator import bad_metric_lines

NOW = datetime(2026, 11, 18, 12, tzinfo=UTC)


def _batch_event(**changes):
    event = {"hostId": "laptop", "sessionId": "abc123", "eventType": "agent_execution",
             "agentName": "tool-approve", "timestamp": "2024-01-15T10:30:00Z",
             "decision": "APPROVED", "decisionReason": "Tool is safe", "toolName": "Bash",
             "latencyMs": 150, "modelTier": "haiku"}
    event.update(changes)
    return {k: v for k, v in event.items() if v is not None}


def test_the_seed_example_loads_with_its_decision_normalised():
    row = landing_parsers.collector_batch_event(_batch_event(), NOW)
    assert row["decision"] == "APPROVE"
    assert row["created_at"] == datetime(2024, 1, 15, 10, 30, tzinfo=UTC)
    assert row["latency_ms"] == 150 and row["model_tier"] == "haiku"


def test_naive_timestamps_are_utc_and_epoch_ms_are_accepted():
    naive = landing_parsers.parse_timestamp("2026-11-01T08:00:00", "t", NOW)
    assert naive == datetime(2026, 11, 1, 8, tzinfo=UTC)
    epoch = landing_parsers.parse_timestamp(1727699696789, "t", NOW)
    assert epoch == datetime(2024, 9, 30, 12, 34, 56, 789000, tzinfo=UTC)


@pytest.mark.parametrize(("changes", "reason"), [
    ({"hostId": None}, "missing_required_key"),
    ({"eventType": "telepathy"}, "unknown_enum"),
    ({"latencyMs": -3}, "negative_value"),
    ({"promptTokens": -1}, "negative_value"),
    ({"timestamp": "15/01/2024 10:30"}, "unparseable_timestamp"),
    ({"timestamp": "2026-11-25T00:00:00Z"}, "future_timestamp"),
    ({"decisionReason": "bad\x00byte"}, "nul_byte"),
    ({"decisionReason": "half a pair \udc80"}, "invalid_utf8"),
    ({"latencyMs": "fast"}, "wrong_type"),
])
def test_bad_batch_events_are_rejected_with_a_reason(changes, reason):
    with pytest.raises(RowRejected) as rejected:
        landing_parsers.collector_batch_event(_batch_event(**changes), NOW)
    assert rejected.value.reason_code == reason


def test_metric_event_of_the_seed_loads():
    line = {"metric": "task_success", "timestamp": 1727699696789, "value": {
        "tenantId": "tenant_abc", "eventId": "0b8a9a56-5c5d-4a07-8f6c-1e3f8b1b50d4",
        "modelId": "provider-x/model-y@2025-10",
        "toolCalls": [{"name": "get_user_invoice", "status": "success", "latencyMs": 83}],
        "tokenUsage": {"promptTokens": 650, "completionTokens": 420}, "latencyMs": 1340}}
    row = landing_parsers.metric_event(line, NOW, NOW)
    assert (row["event_id"], row["tenant_id"], row["prompt_tokens"], row["completion_tokens"],
            row["latency_ms"], row["is_time_inferred"]) == (
        "0b8a9a56-5c5d-4a07-8f6c-1e3f8b1b50d4", "tenant_abc", 650, 420, 1340, False)
    assert row["tool_calls"] == [{"name": "get_user_invoice", "status": "success",
                                  "latencyMs": 83}]


def test_metric_event_without_timestamp_takes_the_file_time():
    line = {"metric": "heartbeat", "value": {"eventId": "e1", "sessionId": "sess-19f"}}
    row = landing_parsers.metric_event(line, NOW, datetime(2026, 11, 17, tzinfo=UTC))
    assert row["is_time_inferred"] and row["occurred_at"] == datetime(2026, 11, 17, tzinfo=UTC)


def test_generated_bad_lines_cover_every_reason():
    kinds = [kind for kind, _ in bad_metric_lines(random.Random(1), NOW, NOW)]
    assert sorted(kinds) == sorted({
        "malformed_json", "missing_required_key", "unknown_enum", "negative_value",
        "unparseable_timestamp", "future_timestamp", "nul_byte", "invalid_utf8", "oversize"})
    for kind, line in bad_metric_lines(random.Random(2), NOW, NOW):
        if kind in ("malformed_json", "invalid_utf8", "oversize"):
            continue  # caught before parsing, by the file loader
        with pytest.raises(RowRejected) as rejected:
            landing_parsers.metric_event(json.loads(line), NOW, NOW)
        assert rejected.value.reason_code == kind
