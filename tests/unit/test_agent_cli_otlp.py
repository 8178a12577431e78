"""OTLP/JSON file exports: a file written by the real OpenTelemetry Python SDK and OTLP encoder
(as the Collector's file exporter writes it) read back into tokens, tools and errors; the
flattening compared with ccusage's Copilot OTel reader on the flat records; hostile lines."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest
from google.protobuf.json_format import MessageToDict, MessageToJson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

from ingestion.agent_cli import otlp
from ingestion.agent_cli.usage import TOOL_COLUMNS, LogFile
from tests.unit.test_agent_cli_copilot import (
    OTEL_KINDS,
    SECRET,
    assert_matches,
    context,
    live,
    report,
)
from tests.unit.test_contracts import JSON_VALUES

_IDS = ("traceId", "spanId", "parentSpanId")


def collector_json(message) -> str:
    """A request as the Collector's file exporter writes it: OTLP/JSON, whose ids are hex
    (proto3 JSON, and so MessageToJson, writes them base64) and whose enums are integers."""

    def hex_ids(value):
        if isinstance(value, dict):
            return {
                k: base64.b64decode(v).hex() if k in _IDS else hex_ids(v) for k, v in value.items()
            }
        if isinstance(value, list):
            return [hex_ids(v) for v in value]
        return value

    return json.dumps(hex_ids(MessageToDict(message, use_integers_for_enums=True)))


def read(path: Path):
    return otlp.parse(path.read_bytes(), LogFile(path, f"k/{path.name}", path.name), context())


def _sdk_requests():
    """Spans and log records made by the SDK: a chat span with tokens and cache, an
    execute_tool span, a failed span, Claude Code's api_request and api_error events."""
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    tracer = tracer_provider.get_tracer("agent")
    with tracer.start_as_current_span("invoke_agent demo"):
        with tracer.start_as_current_span(
            "chat gpt-5.4",
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-5.4",
                "gen_ai.response.model": "gpt-5.4-1m-internal",
                "gen_ai.response.id": "resp-1",
                "gen_ai.conversation.id": "conv-1",
                "gen_ai.usage.input_tokens": 1200,
                "gen_ai.usage.output_tokens": 80,
                "gen_ai.usage.cache_read.input_tokens": 1000,
                "gen_ai.usage.cache_creation.input_tokens": 150,
            },
        ):
            pass
        with tracer.start_as_current_span(
            "execute_tool grep",
            attributes={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "grep"},
        ):
            time.sleep(0.002)
        with tracer.start_as_current_span(
            "execute_tool bash", attributes={"gen_ai.tool.name": "bash", "error.type": "timeout"}
        ) as failed:
            failed.set_status(Status(StatusCode.ERROR, "took too long"))
    logs = InMemoryLogRecordExporter()
    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
    logger = logger_provider.get_logger("com.anthropic.claude_code.events")
    common = {"session.id": "cc-session", "model": "claude-sonnet-4-5-20250929"}
    logger.emit(
        timestamp=time.time_ns(),
        body="claude_code.api_request",
        attributes={
            **common,
            "event.name": "api_request",
            "input_tokens": "12",
            "output_tokens": 340,
            "cache_read_tokens": "5600",
            "cache_creation_tokens": "78",
            "cost_usd": "0.0123",
            "request_id": "req_1",
        },
    )
    logger.emit(
        timestamp=time.time_ns(),
        body="claude_code.tool_result",
        attributes={
            **common,
            "event.name": "tool_result",
            "tool_name": "Read",
            "success": "false",
            "duration_ms": "42",
        },
    )
    logger.emit(
        timestamp=time.time_ns(),
        body="claude_code.api_error",
        attributes={**common, "event.name": "api_error", "status_code": "529", "error": SECRET},
    )
    return encode_spans(spans.get_finished_spans()), encode_logs(logs.get_finished_logs()), spans


def test_a_file_the_sdk_wrote_gives_its_tokens_tools_and_errors(tmp_path):
    trace_request, log_request, spans = _sdk_requests()
    path = tmp_path / "export.jsonl"
    path.write_text(collector_json(trace_request) + "\n" + collector_json(log_request) + "\n")
    parsed, tools = read(path)
    assert parsed.rejections == [] and parsed.records_read == 4 + 3
    chat, claude = parsed.rows
    sdk_chat = next(s for s in spans.get_finished_spans() if s.name == "chat gpt-5.4")
    assert chat["trace_id"] == f"{sdk_chat.context.trace_id:032x}"
    assert chat["message_id"] == f"{chat['trace_id']}:{sdk_chat.context.span_id:016x}"
    assert (chat["record_kind"], chat["session_id"], chat["model"], chat["provider"]) == (
        "otel_chat_span",
        "conv-1",
        "gpt-5.4",
        "openai",
    )
    # ccusage's Copilot rule: only cache reads come off the input.
    assert (chat["input_tokens"], chat["output_tokens"], chat["cache_read_tokens"]) == (
        200,
        80,
        1000,
    )
    assert (chat["cache_creation_tokens"], chat["total_tokens"]) == (150, 1430)
    assert chat["occurred_at"].timestamp() == pytest.approx(sdk_chat.end_time / 1e9, abs=0.001)
    assert (claude["record_kind"], claude["session_id"], claude["message_id"]) == (
        "otel_claude_code_api_request",
        "cc-session",
        "req_1",
    )
    assert (claude["input_tokens"], claude["output_tokens"], claude["cache_read_tokens"]) == (
        12,
        340,
        5600,
    )
    assert (claude["cache_creation_tokens"], claude["total_tokens"]) == (78, 6030)
    assert claude["logged_cost_usd"] == pytest.approx(0.0123)
    assert claude["model"] == "claude-sonnet-4-5-20250929"
    assert all(set(tool) == set(TOOL_COLUMNS) for tool in tools)
    found = [(t["tool_name"], t["is_error"], t["error_type"], t["session_id"]) for t in tools]
    assert found == [
        ("grep", False, None, "conv-1"),  # the session of its trace
        ("bash", True, "timeout", "conv-1"),
        ("Read", True, None, "cc-session"),
        (None, True, "529", "cc-session"),
    ]
    assert tools[0]["duration_ms"] >= 2
    assert SECRET not in json.dumps(tools, default=str)


def test_proto3_json_ids_and_enum_names_read_the_same(tmp_path):
    """A writer that used proto3 JSON as it is (base64 ids, enum names) is read alike."""
    trace_request, log_request, _ = _sdk_requests()
    collector, proto3 = tmp_path / "collector.jsonl", tmp_path / "proto3.jsonl"
    collector.write_text(collector_json(trace_request) + "\n" + collector_json(log_request) + "\n")
    proto3.write_text(
        MessageToJson(trace_request, indent=None) + "\n" + MessageToJson(log_request, indent=None)
    )
    ours, theirs = read(collector), read(proto3)
    assert ours[0].rows == theirs[0].rows and ours[1] == theirs[1]


def _attr(key: str, value) -> dict:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}  # OTLP/JSON: int64 as a string
    return {"key": key, "value": {"stringValue": value}}


def _span(trace: str, span: str, name: str, end_ns: int, **attributes) -> dict:
    return {
        "traceId": trace,
        "spanId": span,
        "name": name,
        "kind": 3,
        "startTimeUnixNano": str(end_ns - 10**9),
        "endTimeUnixNano": str(end_ns),
        "attributes": [_attr(k, v) for k, v in attributes.items()],
        "status": {},
    }


def _log(trace: str, time_ns: int, body: str, **attributes) -> dict:
    record = {
        "timeUnixNano": str(time_ns),
        "observedTimeUnixNano": str(time_ns + 5 * 10**9),
        "body": {"stringValue": body},
        "attributes": [_attr(k, v) for k, v in attributes.items()],
    }
    return {**record, "traceId": trace} if trace else record


MIDNIGHT_NS = 1772496000 * 10**9  # 2026-03-03T00:00:00Z
T1, T2, T3 = (
    "0af7651916cd43dd8448eb211c80319c",
    "4bf92f3577b34da6a3ce929d0e0e4736",
    "5b8aa5a2d2c872e8321cf37308d69df2",
)


def _case_lines() -> list[str]:
    """research §6.3's cases, as OTLP/JSON: a chat span with cache read and write; a repeated
    chat span; an inference log in a chat span's trace; a log without trace id; a -1m-internal
    model; nanosecond times across midnight; int64 values as strings; a metrics line."""
    usage = {
        "gen_ai.operation.name": "chat",
        "gen_ai.conversation.id": "conv-a",
        "gen_ai.response.model": "claude-opus-4.6-1m-internal",
        "gen_ai.usage.input_tokens": 900,
        "gen_ai.usage.output_tokens": 40,
        "gen_ai.usage.cache_read.input_tokens": 600,
        "gen_ai.usage.cache_write.input_tokens": 100,
    }
    spans = [
        _span(
            T1,
            "00f067aa0ba902b7",
            "chat claude-opus-4.6",
            MIDNIGHT_NS - 1,
            **usage,
            **{"gen_ai.response.id": "r-1"},
        ),
        _span(
            T2,
            "00f067aa0ba902b8",
            "chat claude-opus-4.6",
            MIDNIGHT_NS,
            **usage,
            **{"gen_ai.response.id": "r-1"},
        ),
        _span(
            T3,
            "00f067aa0ba902b9",
            "chat gpt-5.4",
            MIDNIGHT_NS + 3600 * 10**9,
            **{
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "gpt-5.4",
                "github.copilot.interaction_id": "inter-1",
                "gen_ai.usage.input_tokens": 50,
                "gen_ai.usage.output_tokens": 5,
                "gen_ai.usage.total_tokens": 70,
            },
        ),
        _span(
            T3,
            "00f067aa0ba902ba",
            "execute_tool view",
            MIDNIGHT_NS + 3599 * 10**9,
            **{"gen_ai.tool.name": "view"},
        ),
    ]
    inference = {
        "event.name": "gen_ai.client.inference.operation.details",
        "gen_ai.response.model": "gpt-5.4",
    }
    logs = [
        _log(
            T3,
            MIDNIGHT_NS + 3601 * 10**9,
            "GenAI inference: gpt-5.4",
            **inference,
            **{"gen_ai.usage.input_tokens": 50, "gen_ai.usage.output_tokens": 5},
        ),
        _log(
            "",
            MIDNIGHT_NS - 2,
            "GenAI inference: gpt-5.4",
            **inference,
            **{
                "gen_ai.response.id": "r-lone",
                "gen_ai.usage.input_tokens": 33,
                "gen_ai.usage.output_tokens": 3,
                "gen_ai.usage.cache_read.input_tokens": 10,
            },
        ),
        _log(
            "",
            MIDNIGHT_NS,
            "claude_code.api_request",
            **{
                "event.name": "api_request",
                "session.id": "cc",
                "model": "claude-opus-4-6",
                "input_tokens": 5,
                "output_tokens": 6,
            },
        ),
    ]
    metrics = {
        "resourceMetrics": [
            {
                "scopeMetrics": [
                    {
                        "metrics": [
                            {
                                "name": "gen_ai.client.token.usage",
                                "histogram": {
                                    "dataPoints": [
                                        {
                                            "count": "2",
                                            "sum": 950,
                                            "attributes": [_attr("gen_ai.token.type", "input")],
                                        },
                                        {
                                            "count": "2",
                                            "sum": 45,
                                            "attributes": [_attr("gen_ai.token.type", "output")],
                                        },
                                    ],
                                    "aggregationTemporality": 1,
                                },
                            }
                        ]
                    }
                ]
            }
        ]
    }
    return [
        json.dumps(
            {
                "resourceSpans": [
                    {"resource": {}, "scopeSpans": [{"scope": {"name": "copilot"}, "spans": spans}]}
                ]
            }
        ),
        json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": logs}]}]}),
        json.dumps(metrics),
    ]


def test_the_cases_flatten_and_read_as_intended(tmp_path):
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(_case_lines()) + "\n")
    parsed, tools = read(path)
    assert parsed.records_read == 4 + 3 + 2 and parsed.rejections == []
    rows = [
        (
            r["record_key"],
            r["record_kind"],
            r["session_id"],
            r["model"],
            r["input_tokens"],
            r["output_tokens"],
            r["extra_output_tokens"],
        )
        for r in parsed.rows
    ]
    assert rows == [
        ("1:0", "otel_chat_span", "conv-a", "claude-opus-4.6", 300, 40, 0),
        ("1:1", "otel_chat_span", "conv-a", "claude-opus-4.6", 300, 40, 0),  # repeated: counted
        ("1:2", "otel_chat_span", "inter-1", "gpt-5.4", 50, 5, 15),
        ("2:1", "otel_inference_log", "r-lone", "gpt-5.4", 23, 3, 0),
        ("2:2", "otel_claude_code_api_request", "cc", "claude-opus-4-6", 5, 6, 0),
    ]
    day = [r["occurred_at"].date().isoformat() for r in parsed.rows[:2]]
    assert day == ["2026-03-02", "2026-03-03"]  # 1 ns before midnight, and midnight
    assert [(t["record_key"], t["tool_name"], t["session_id"]) for t in tools] == [
        ("1:3", "view", "inter-1")
    ]


def test_the_flattening_reads_as_ccusages_copilot_reader_reads_the_flat_records(tmp_path):
    """ccusage reads no OTLP: the same records, flattened and written as the Copilot OTel file
    it does read, must give what we read from the OTLP file (the gen_ai records; ccusage reads
    none of Claude Code's events)."""
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(_case_lines()) + "\n")
    flat_file = tmp_path / "flat" / "copilot-otel.jsonl"
    flat_file.parent.mkdir()
    flat = [record for line in _case_lines() for record in otlp.flatten_line(line.encode())[0]]
    flat_file.write_text("".join(json.dumps(record) + "\n" for record in flat))
    empty_home = tmp_path / "empty-copilot-home"
    empty_home.mkdir()
    rows = [row for row in read(path)[0].rows if row["record_kind"] in OTEL_KINDS]
    for kind in ("daily", "monthly", "session"):
        assert_matches(report(rows, kind), live(empty_home, kind, flat_file), kind)


def test_broken_lines_are_quarantined_one_each_and_the_rest_is_read(tmp_path):
    good = _case_lines()[0]
    # A line of two spans, one with an odd-hex trace id (neither hex nor base64 of an id).
    span = json.loads(good)["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    kept = json.loads(
        json.dumps(span)
        .replace(span["traceId"], "1" * 32)
        .replace(span["spanId"], "2" * 16)
        .replace('"r-1"', '"r-4"')
    )
    bad_id = json.dumps(
        {"resourceSpans": [{"scopeSpans": [{"spans": [{**kept, "traceId": "abc"}, kept]}]}]}
    )
    lines = [
        "not json",
        json.dumps([1, 2]),
        json.dumps({"something": "else"}),
        bad_id,
        json.dumps(
            {
                "resourceSpans": [
                    {"scopeSpans": [{"spans": [{"name": SECRET, "endTimeUnixNano": "soon"}]}]}
                ]
            }
        ),
        # An enum name OTLP does not know is unset (kind 0): read, no usage.
        json.dumps(
            {"resourceSpans": [{"scopeSpans": [{"spans": [{"name": "x", "kind": "nope"}]}]}]}
        ),
        good,
        "",
    ]
    path = tmp_path / "broken.jsonl"
    path.write_text("\n".join(lines) + "\n")
    parsed, _ = read(path)
    assert [(r.source_key, r.reason_code) for r in parsed.rejections] == [
        ("k/broken.jsonl:1", "malformed_json"),
        ("k/broken.jsonl:2", "wrong_type"),
        ("k/broken.jsonl:3", "wrong_type"),
        # A span whose id is not one sets itself aside, not its line's other records.
        ("k/broken.jsonl:4:0", "wrong_type"),
        ("k/broken.jsonl:5:0", "wrong_type"),
    ]
    assert {r["record_key"] for r in parsed.rows} == {"4:1", "7:0", "7:1", "7:2"}
    # Three whole lines, then two records, one, one (no usage) and the good line's four.
    assert parsed.records_read == 3 + 2 + 1 + 1 + 4
    assert all(SECRET not in r.detail for r in parsed.rejections)


# --- hostile input -------------------------------------------------------------------------

_VALUE = st.one_of(
    st.fixed_dictionaries(
        {"intValue": st.one_of(st.integers(-5, 2**64), st.sampled_from(["12", SECRET]))}
    ),
    st.fixed_dictionaries(
        {"stringValue": st.sampled_from(["chat", "gpt-5.4", SECRET, "x\x00", "execute_tool"])}
    ),
    st.fixed_dictionaries({"doubleValue": st.floats(allow_nan=False)}),
    JSON_VALUES,
)
_ATTRIBUTES = st.lists(
    st.fixed_dictionaries(
        {
            "key": st.sampled_from(
                [
                    "gen_ai.operation.name",
                    "gen_ai.response.model",
                    "gen_ai.conversation.id",
                    "gen_ai.usage.input_tokens",
                    "gen_ai.usage.output_tokens",
                    "gen_ai.usage.total_tokens",
                    "event.name",
                    "session.id",
                    "input_tokens",
                    "cost_usd",
                    "gen_ai.tool.name",
                    "error.type",
                ]
            ),
            "value": _VALUE,
        }
    ),
    max_size=6,
)
_TIMES = st.one_of(
    st.integers(0, 2**64 - 1).map(str), st.sampled_from([str(MIDNIGHT_NS), "-1"]), JSON_VALUES
)
_SPANS = st.fixed_dictionaries(
    {"attributes": st.one_of(_ATTRIBUTES, JSON_VALUES)},
    optional={
        "traceId": st.sampled_from([T1, T2, "abc", SECRET, ""]),
        "spanId": st.sampled_from(["00f067aa0ba902b7", "zz"]),
        "name": st.sampled_from(["chat x", "invoke_agent", "execute_tool y", SECRET]),
        "kind": st.one_of(st.integers(-1, 9), st.just("SPAN_KIND_CLIENT")),
        "endTimeUnixNano": _TIMES,
        "status": st.one_of(st.fixed_dictionaries({"code": st.integers(0, 3)}), JSON_VALUES),
    },
)
_LOGS = st.fixed_dictionaries(
    {"attributes": st.one_of(_ATTRIBUTES, JSON_VALUES)},
    optional={
        "timeUnixNano": _TIMES,
        "body": st.one_of(
            st.fixed_dictionaries(
                {"stringValue": st.sampled_from(["GenAI inference: m", "claude_code.api_request"])}
            ),
            JSON_VALUES,
        ),
        "traceId": st.sampled_from([T1, "", SECRET]),
    },
)
_ENVELOPES = st.one_of(
    st.fixed_dictionaries(
        {
            "resourceSpans": st.lists(
                st.fixed_dictionaries(
                    {
                        "scopeSpans": st.lists(
                            st.fixed_dictionaries({"spans": st.lists(_SPANS, max_size=3)}),
                            max_size=2,
                        )
                    }
                ),
                max_size=2,
            )
        }
    ),
    st.fixed_dictionaries(
        {
            "resourceLogs": st.lists(
                st.fixed_dictionaries(
                    {
                        "scopeLogs": st.lists(
                            st.fixed_dictionaries({"logRecords": st.lists(_LOGS, max_size=3)}),
                            max_size=2,
                        )
                    }
                ),
                max_size=2,
            )
        }
    ),
    st.fixed_dictionaries({"resourceMetrics": JSON_VALUES}),
    JSON_VALUES,
)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    lines=st.lists(
        st.one_of(
            _ENVELOPES.map(
                lambda v: json.dumps(v, allow_nan=True).encode("utf-8", "surrogatepass")
            ),
            st.binary(max_size=40),
        ),
        max_size=8,
    )
)
def test_any_export_is_read_or_quarantined_record_by_record(lines):
    data = b"\n".join(lines) + b"\n"
    log = LogFile(Path("/nonexistent"), "k/x.jsonl", "x.jsonl")
    parsed, tools = otlp.parse(data, log, context())
    rejected = [r.source_key.removeprefix("k/x.jsonl:") for r in parsed.rejections]
    assert len(rejected) == len(set(rejected))
    used = {r["record_key"] for r in parsed.rows} | {t["record_key"] for t in tools}
    # A whole rejected line ("3") holds no record that made a row; a rejected record ("3:1") no
    # row either.
    assert not used & set(rejected)
    assert not {key.split(":")[0] for key in used} & {k for k in rejected if ":" not in k}
    assert parsed.records_read >= len(rejected) + len({r["record_key"] for r in parsed.rows})
    for rejection in parsed.rejections:
        assert SECRET not in rejection.detail and "sk-ant" not in rejection.detail
    assert SECRET not in json.dumps([parsed.rows, tools], default=str)
