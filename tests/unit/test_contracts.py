"""Record contracts: every kind of hostile value gets its own reason; anything at all either
passes or is rejected with a reason, never another exception; what passes fits its column."""

import json
import math
import random
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devtools.sample_data.landing_generator import bad_metric_lines
from ingestion import contracts
from ingestion.agent_cli.usage import BIGINT_MAX
from ingestion.core import quarantine
from ingestion.core.contract_fields import (
    COST_MAX,
    INT32_MAX,
    LoadContext,
    check,
    parse_json,
    rules,
)
from ingestion.core.quarantine import RowRejected

NOW = datetime(2026, 11, 18, 12, tzinfo=UTC)


def _context() -> LoadContext:
    return LoadContext(now=NOW, fingerprint_key=b"test-key")


def _reason(model, record) -> str:
    with pytest.raises(RowRejected) as rejected:
        check(model, record, _context())
    return rejected.value.reason_code


def _batch_event(**changes):
    event = {
        "hostId": "laptop",
        "sessionId": "abc123",
        "eventType": "agent_execution",
        "agentName": "tool-approve",
        "timestamp": "2024-01-15T10:30:00Z",
        "decision": "APPROVED",
        "decisionReason": "Tool is safe",
        "toolName": "Bash",
        "latencyMs": 150,
        "modelTier": "haiku",
    }
    event.update(changes)
    return {k: v for k, v in event.items() if v is not None}


def _metric(value=None, **top):
    line = {
        "metric": "task_success",
        "timestamp": 1727699696789,
        "value": {"eventId": "e-1", "agentId": "agent-7", **(value or {})},
    }
    line.update(top)
    return line


def _claude_line(**changes):
    line = {
        "type": "assistant",
        "sessionId": "s-1",
        "uuid": "u-1",
        "timestamp": "2025-09-03T00:47:19.293Z",
        "cwd": "/path/to/Demo",
        "requestId": "req_1",
        "message": {
            "id": "msg_1",
            "role": "assistant",
            "model": "claude-sonnet-4-20250514",
            "usage": {
                "input_tokens": 4,
                "output_tokens": 6,
                "cache_creation_input_tokens": 10,
                "cache_read_input_tokens": 0,
            },
            "content": [
                {"type": "text", "text": "hello"},
                {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "ls"}},
            ],
        },
    }
    line.update(changes)
    return line


def test_the_seed_example_loads_with_its_decision_normalised():
    event = check(contracts.BatchEvent, _batch_event(), _context())
    assert event.decision == "APPROVE"
    assert event.created_at == datetime(2024, 1, 15, 10, 30, tzinfo=UTC)
    assert event.latency_ms == 150 and event.model_tier == "haiku"


def test_naive_timestamps_are_utc_epoch_ms_are_accepted_and_whole_floats_are_integers():
    naive = check(contracts.BatchEvent, _batch_event(timestamp="2026-11-01T08:00:00"), _context())
    assert naive.created_at == datetime(2026, 11, 1, 8, tzinfo=UTC)
    epoch = check(
        contracts.BatchEvent, _batch_event(timestamp=1727699696789, latencyMs=1e3), _context()
    )
    assert epoch.created_at == datetime(2024, 9, 30, 12, 34, 56, 789000, tzinfo=UTC)
    assert epoch.latency_ms == 1000


# Every kind of hostile value the issue names, per record type, with its reason.
BATCH_KINDS = [
    ({"hostId": None}, "missing_required_key"),
    ({"sessionId": ""}, "missing_required_key"),
    ({"hostId": ["a", "list"]}, "wrong_type"),
    ({"eventType": "telepathy"}, "unknown_enum"),
    ({"latencyMs": -3}, "negative_value"),
    ({"latencyMs": 2**31}, "out_of_range"),
    ({"latencyMs": "fast"}, "wrong_type"),
    ({"latencyMs": 1.5}, "wrong_type"),
    ({"latencyMs": True}, "wrong_type"),
    ({"promptTokens": 10**30}, "out_of_range"),
    ({"cost": 12_345.6}, "out_of_range"),
    ({"cost": float("nan")}, "non_finite_number"),
    ({"cost": "0.1"}, "wrong_type"),
    ({"timestamp": "15/01/2024 10:30"}, "unparseable_timestamp"),
    ({"timestamp": "0001-01-01T00:00:00+01:00"}, "unparseable_timestamp"),
    ({"timestamp": "9999-12-31T23:59:59-05:00"}, "unparseable_timestamp"),
    ({"timestamp": "9999-12-31T00:00:00+00:00"}, "future_timestamp"),
    ({"timestamp": "2026-11-25T00:00:00Z"}, "future_timestamp"),
    ({"timestamp": 1727699696}, "timestamp_before_floor"),  # epoch seconds, not ms
    ({"timestamp": 1e300}, "unparseable_timestamp"),
    ({"decisionReason": "bad\x00byte"}, "nul_byte"),
    ({"decisionReason": "half a pair \udc80"}, "invalid_utf8"),
    ({"workingDir": "/x" * 5000}, "oversize"),
    ({"extraData": {"inputChars": "lots"}}, "wrong_type"),
    ({"extraData": {"inputChars": 1e20}}, "out_of_range"),
    ({"extraData": {"inputChars": -1}}, "negative_value"),
    ({"extraData": {"a": float("nan")}}, "non_finite_number"),
    ({"extraData": '{"a": "\\u0000"}'}, "nul_byte"),
    ({"extraData": {"a": "x\x00"}}, "nul_byte"),
    ({"extraData": json.loads("[" * 40 + "]" * 40)}, "too_deep"),
    ({"success": "yes"}, "wrong_type"),
]


@pytest.mark.parametrize(("changes", "reason"), BATCH_KINDS)
def test_bad_batch_events_are_rejected_with_their_reason(changes, reason):
    assert _reason(contracts.BatchEvent, _batch_event(**changes)) == reason


def test_collector_rows_and_batch_events_share_one_contract():
    row = {
        "host_id": "h",
        "session_id": "s",
        "event_type": "error",
        "agent_name": "a",
        "decision": "DENY",
        "latency_ms": 3,
        "created_at": "2026-11-18T10:00:00+00:00",
        "cost": 9999.99999999,
        "cost_fetch_retries": 2,
        "extra_data": '{"x": 1}',
    }
    event = check(contracts.CollectorEvent, row, _context())
    assert (event.cost, event.cost_fetch_retries) == (COST_MAX, 2)
    assert json.loads(event.extra_data) == '{"x":1}'  # double-encoded, kept as received
    assert _reason(contracts.CollectorEvent, {**row, "decision": "MAYBE"}) == "unknown_enum"


METRIC_KINDS = [
    (_metric(metric=""), "missing_required_key"),
    (_metric(metric="m" * 129), "oversize"),
    (_metric(metric=["task_success"]), "wrong_type"),
    (_metric({"eventId": None}), "missing_required_key"),
    (_metric({"eventId": {"nested": 1}}), "wrong_type"),
    (_metric({"tokenUsage": {"promptTokens": "abc"}}), "wrong_type"),
    (_metric({"tokenUsage": "lots"}), "wrong_type"),
    (_metric({"retries": -1}), "negative_value"),
    (_metric({"errorClass": "cosmic_ray"}), "unknown_enum"),
    (_metric({"toolCalls": [{"status": "ok"}]}), "missing_required_key"),
    (_metric({"toolCalls": [{"name": "x"}] * 1001}), "oversize"),
    (_metric({"toolCalls": {"name": "x"}}), "wrong_type"),
    (_metric(timestamp=4102444800000), "future_timestamp"),
    (_metric(timestamp=1727699696), "timestamp_before_floor"),
    (_metric({"occurredAt": "yesterday"}, timestamp=None), "unparseable_timestamp"),
    ({"metric": "x"}, "missing_required_key"),
    ([1, 2, 3], "wrong_type"),
]


@pytest.mark.parametrize(("line", "reason"), METRIC_KINDS)
def test_bad_metric_lines_are_rejected_with_their_reason(line, reason):
    assert _reason(contracts.MetricEvent, line) == reason


def test_any_metric_name_and_a_missing_session_or_tenant_load():
    """The checks follow the contract: metric names are free (seed 001), sessions and tenants
    optional (staging falls back to the trace, the event and the agent)."""
    event = check(contracts.MetricEvent, _metric(metric="tx_submission"), _context())
    assert (event.metric, event.value.session_id, event.value.tenant_id) == (
        "tx_submission",
        None,
        None,
    )
    numeric = check(contracts.MetricEvent, _metric({"eventId": 42}), _context())
    assert numeric.value.event_id == "42"


CLAUDE_KINDS = [
    ({"message": {"id": "m", "usage": {"input_tokens": -4}}}, "negative_value"),
    ({"message": {"id": "m", "usage": {"input_tokens": "abc"}}}, "wrong_type"),
    ({"message": {"id": "m", "usage": {"input_tokens": 2**64}}}, "out_of_range"),
    ({"message": {"id": "m", "usage": {"output_tokens": float("inf")}}}, "non_finite_number"),
    ({"message": {"id": ["m"]}}, "wrong_type"),
    ({"message": {"content": [{"type": "tool_use", "id": 5, "name": "Bash"}]}}, "wrong_type"),
    ({"message": "hello"}, "wrong_type"),
    ({"timestamp": "2199-01-01T00:00:00Z"}, "future_timestamp"),
    ({"timestamp": "2019-12-31T23:59:59Z"}, "timestamp_before_floor"),
    ({"timestamp": 1727699696789}, "unparseable_timestamp"),
    ({"cwd": "/home/\udc80"}, "invalid_utf8"),
    ({"gitBranch": {"name": "main"}}, "wrong_type"),
    ({"isSidechain": "false"}, "wrong_type"),
]


@pytest.mark.parametrize(("changes", "reason"), CLAUDE_KINDS)
def test_bad_claude_code_lines_are_rejected_with_their_reason(changes, reason):
    assert _reason(contracts.ClaudeCodeLine, _claude_line(**changes)) == reason


def test_claude_code_text_keeps_what_it_can():
    """Text is not an id: a NUL is dropped and a broken surrogate replaced (real logs have
    them, and ccusage still counts the line); a line without a type loads."""
    line = _claude_line(
        type=None,
        message={
            "id": "m",
            "usage": {"input_tokens": 1},
            "content": [{"type": "text", "text": "a\x00b \ud83d end"}],
        },
    )
    del line["type"]
    valid = check(contracts.ClaudeCodeLine, line, _context())
    assert valid.type is None
    assert valid.message.content.text == "ab \ufffd end"


TRANSCRIPT_MESSAGE_KINDS = [
    ({"role": "user"}, "missing_required_key"),
    ({"role": "robot", "content": "x"}, "unknown_enum"),
    ({"role": "user", "content": ["x"]}, "wrong_type"),
    ({"role": "user", "content": "x", "index": 3e9}, "out_of_range"),
    ({"role": "user", "content": "x", "index": -1}, "negative_value"),
    ({"role": "user", "content": "\x00"}, "nul_byte"),
    ("just a string", "wrong_type"),
]


@pytest.mark.parametrize(("message", "reason"), TRANSCRIPT_MESSAGE_KINDS)
def test_bad_transcript_messages_are_rejected_with_their_reason(message, reason):
    assert _reason(contracts.TranscriptMessage, message) == reason


def test_an_empty_message_loads():
    assert (
        check(contracts.TranscriptMessage, {"role": "assistant", "content": ""}, _context()).content
        == ""
    )


def test_parsing_never_raises_anything_but_a_rejection():
    for text, reason in [
        ("[" * 50_000 + "]" * 50_000, "too_deep"),
        ("{", "malformed_json"),
        ("1" * 5000, "malformed_json"),
    ]:
        with pytest.raises(RowRejected) as rejected:
            parse_json(text)
        assert rejected.value.reason_code == reason


def test_generated_bad_lines_cover_every_reason():
    kinds = [kind for kind, _ in bad_metric_lines(random.Random(1), NOW, NOW)]
    assert sorted(kinds) == sorted(
        {
            "malformed_json",
            "missing_required_key",
            "unknown_enum",
            "negative_value",
            "unparseable_timestamp",
            "future_timestamp",
            "nul_byte",
            "invalid_utf8",
            "oversize",
        }
    )
    for kind, line in bad_metric_lines(random.Random(2), NOW, NOW):
        if kind in ("malformed_json", "invalid_utf8", "oversize"):
            continue  # caught before parsing, by the file loader
        assert _reason(contracts.MetricEvent, json.loads(line)) == kind


# --- anything at all ----------------------------------------------------------------------

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.sampled_from(
        [
            "2026-11-18T10:00:00Z",
            "0001-01-01T00:00:00+14:00",
            "NaN",
            "APPROVE",
            "user",
            "hook_decision",
            "\x00",
            "\udc80",
            "sk-ant-api03-abcdefghijklmnopqrstuv",
        ]
    )
)
JSON_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=25,
)


def _field_names(model) -> list[str]:
    names = []
    for name, info in model.model_fields.items():
        names.append(name)
        choices = getattr(info.validation_alias, "choices", None) or []
        names += [c for c in choices if isinstance(c, str)]
    return names


def _records(model):
    """Dicts made of the record's own field names (so that validation goes deep) with values
    of any JSON kind, plus anything at all."""
    keys = st.sampled_from(_field_names(model)) | st.text(max_size=8)
    return st.dictionaries(keys, JSON_VALUES, max_size=12) | JSON_VALUES


def _fits(value) -> None:
    """What passed fits PostgreSQL's columns: integers within `integer`, finite costs within
    numeric(12, 8), text without NUL and encodable as UTF-8."""
    if isinstance(value, contracts.MessageContent):
        _fits([value.text, *value.tool_uses, *value.tool_results])
    elif isinstance(value, dict):
        for key, item in value.items():
            _fits(key)
            _fits(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _fits(item)
    elif isinstance(value, str):
        assert "\x00" not in value
        value.encode("utf-8")
    elif isinstance(value, float):
        assert math.isfinite(value) and 0 <= value <= COST_MAX
    elif isinstance(value, int) and not isinstance(value, bool):
        assert -INT32_MAX <= value <= INT32_MAX


@pytest.mark.parametrize(
    "model",
    [
        contracts.CollectorEvent,
        contracts.BatchEvent,
        contracts.MetricEvent,
        contracts.ClaudeCodeLine,
        contracts.TranscriptHeader,
        contracts.TranscriptMessage,
    ],
)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_anything_passes_or_is_rejected_with_a_reason(model, data):
    record = data.draw(_records(model))
    try:
        valid = check(model, record, _context())
    except RowRejected as rejected:
        assert rejected.reason_code in quarantine.REASON_CODES
        assert rejected.reason_code != quarantine.UNEXPECTED_ERROR
        return
    _fits(valid.model_dump())


def test_integer_columns_keep_their_bounds():
    """Each count fits its raw column: integer, or bigint for the agent CLIs' usage (Codex's
    cumulative totals pass 2**31 in long sessions)."""
    bigint = {
        contracts.CodexLine,
        contracts.GeminiMessage,
        contracts.OpenCodeMessage,
        contracts.ShutdownLine,
        contracts.OtelUsageRow,
    }
    for model in contracts.CONTRACTS.values():
        limit = BIGINT_MAX if model in bigint else INT32_MAX
        assert all(rule.maximum <= limit for rule in rules(model) if rule.kind == "integer")
