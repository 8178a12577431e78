"""OTLP/JSON file exports (what the OpenTelemetry Collector's `file` exporter writes): one
`ExportTraceServiceRequest`, `ExportLogsServiceRequest` or `ExportMetricsServiceRequest` per
line, read with opentelemetry-proto's own message classes.

ccusage 20.0.24 reads no OTLP (its only OTel reader is Copilot's, of the JS SDK's flat
records). So each span and log record is flattened into that flat record and read by the rules
of `otel_records`: the gen_ai records give ccusage's Copilot numbers, Claude Code's
`claude_code.api_request` events their own usage, and tool calls and errors the tool rows.

- A span: `{"type": "span", traceId, spanId, parentSpanId, name, kind, startTime, endTime
  ([s, ns]; absent when 0), status {code}, attributes}`.
- A log record: `{timeUnixNano (absent when 0), observedTimestamp (ns, only when timeUnixNano
  is 0: ccusage reads it before timeUnixNano), traceId, spanId, body (a string body), eventName,
  attributes}`.
- Attribute values: string, bool, int, double as themselves; arrays and key-value lists as
  lists and objects; bytes as base64. Resource and scope attributes are not merged (ccusage
  reads the record's own attributes only).
- Metrics are read and hold no usage: `gen_ai.client.token.usage` is a histogram of per-call
  counts by token type, with no call, response or session identity to match the spans it
  duplicates, so it is not mapped.

`records_read` counts records: each span, log record and metric data point, and each line that
could not be read (one rejection). Each record is a usage row's source, rejected (key
`<file>:<line>:<n>`, n its position among the line's spans and log records), or holds no usage.
A span or log record that breaks the protocol (a field of the wrong type, an id of the wrong
size) is set aside alone; the line's other records are read.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from ingestion.agent_cli import otel_records
from ingestion.agent_cli.usage import LogFile, Parsed
from ingestion.core import quarantine
from ingestion.core.contract_fields import LoadContext

# The envelope each top-level key announces.
ENVELOPES = {
    "resourceSpans": ExportTraceServiceRequest,
    "resourceLogs": ExportLogsServiceRequest,
    "resourceMetrics": ExportMetricsServiceRequest,
}
# The id fields, spelled as OTLP/JSON (lowerCamelCase) or as the proto (snake_case).
_ID_KEYS = frozenset({"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"})
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})*", re.ASCII)


def parse(data: bytes, log: LogFile, context: LoadContext) -> tuple[Parsed, list[dict]]:
    """An OTLP/JSON export's usage rows and tool/error rows (see the module's docstring)."""
    parsed, records = Parsed(), []
    for index, raw_line in enumerate(data.split(b"\n")):
        if not raw_line.strip():
            continue
        line_number = index + 1
        try:
            flat, points = flatten_line(raw_line)
        except Exception as error:  # noqa: BLE001 - one bad line never stops the file
            parsed.records_read += 1
            parsed.rejections.append(
                quarantine.rejection(f"{log.key}:{line_number}", error, raw_line)
            )
            continue
        parsed.records_read += len(flat) + points
        for position, record in enumerate(flat):
            if isinstance(record, quarantine.RowRejected):
                parsed.rejections.append(
                    quarantine.rejection(f"{log.key}:{line_number}:{position}", record, raw_line)
                )
                continue
            records.append(
                otel_records.FlatRecord(f"{line_number}:{position}", len(records), record, raw_line)
            )
    found = otel_records.read(
        records, otel_records.file_time(log, context), context, claude_code=True
    )
    parsed.rows = found.rows
    parsed.rejections += [otel_records.rejection(log.key, r, e) for r, e in found.rejected]
    return parsed, found.tools


def flatten_line(raw_line: bytes) -> tuple[list[dict | quarantine.RowRejected], int]:
    """A line's spans and log records, flattened (or, for one that cannot be read, why, so that
    it alone is set aside), and its number of metric data points. A line that is no export,
    or whose envelope is broken above its records, raises: the whole line is set aside."""
    envelope = otel_records.line_object(raw_line)
    present = [key for key in ENVELOPES if key in envelope]
    if not present:
        raise quarantine.RowRejected(quarantine.WRONG_TYPE, "line is no OTLP export")
    flat, points = [], 0
    for key in present:
        if key in _RECORDS:
            flat += [_record(key, item) for item in _items(key, envelope[key])]
            continue
        message = ENVELOPES[key]()
        try:
            # OTLP/JSON is proto3 JSON but for the ids: those are hex, proto3 JSON's bytes are
            # base64 (a 32-digit hex id would base64-decode, wrongly, to 24 bytes). Enums as
            # integers and int64 values as strings or numbers are proto3 JSON already.
            json_format.ParseDict(
                _ids_as_base64({key: envelope[key]}), message, ignore_unknown_fields=True
            )
        except json_format.ParseError:
            # Its message may quote the value: only the envelope is named.
            raise quarantine.RowRejected(quarantine.WRONG_TYPE, f"{key}: not OTLP") from None
        points += sum(
            len(getattr(metric, metric.WhichOneof("data")).data_points)
            for rm in message.resource_metrics
            for sm in rm.scope_metrics
            for metric in sm.metrics
            if metric.WhichOneof("data")
        )
    return flat, points


# The envelopes whose records are read one by one: their scope level, their records' field
# (each as OTLP/JSON and as the proto spells it) and the record's message (`_record` flattens
# a Span with `_span`, a LogRecord with `_log`).
# Resource and scope attributes are not read (see the module's docstring), so a bad one there
# costs nothing; a bad span or log record costs itself alone.
_RECORDS = {
    "resourceSpans": (("scopeSpans", "scope_spans"), ("spans", "spans"), Span),
    "resourceLogs": (("scopeLogs", "scope_logs"), ("logRecords", "log_records"), LogRecord),
}


def _items(key: str, resources: Any) -> list[Any]:
    """The records of an envelope, walked as proto3 JSON nests them (a null list is empty)."""
    (scope_key, scope_name), (items_key, items_name), _ = _RECORDS[key]
    items = []
    for resource in _list(resources, key):
        for scope in _list(_field(resource, key, scope_key, scope_name), scope_key):
            items += _list(_field(scope, scope_key, items_key, items_name), items_key)
    return items


def _list(value: Any, name: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise quarantine.RowRejected(quarantine.WRONG_TYPE, f"{name}: not a list")
    return value


def _field(value: Any, name: str, json_name: str, proto_name: str) -> Any:
    if not isinstance(value, dict):
        raise quarantine.RowRejected(quarantine.WRONG_TYPE, f"{name}: not an object")
    return value.get(json_name, value.get(proto_name))


def _record(key: str, item: Any) -> dict | quarantine.RowRejected:
    """One span or log record, flattened, or why it cannot be read (never quoting it)."""
    (_, _), (items_key, _), message_class = _RECORDS[key]
    message = message_class()
    try:
        json_format.ParseDict(_ids_as_base64(item), message, ignore_unknown_fields=True)
        return _span(message) if message_class is Span else _log(message)
    except quarantine.RowRejected as error:
        return error
    except RecursionError:
        return quarantine.RowRejected(quarantine.TOO_DEEP, "nesting")
    except Exception:  # noqa: BLE001 - the parser's messages may quote the value
        return quarantine.RowRejected(quarantine.WRONG_TYPE, f"{items_key}: not OTLP")


def _ids_as_base64(value: Any) -> Any:
    """The envelope with every hex trace/span id as base64, for the proto3 JSON parser. An id
    that is not hex (a writer that used proto3 JSON's base64) is left for the parser to read;
    either way an id of the wrong size breaks the line."""
    if isinstance(value, dict):
        return {
            key: _hex_to_base64(item) if key in _ID_KEYS else _ids_as_base64(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_ids_as_base64(item) for item in value]
    return value


def _hex_to_base64(value: Any) -> Any:
    if isinstance(value, str) and _HEX.fullmatch(value):
        return base64.b64encode(binascii.unhexlify(value)).decode("ascii")
    return value


def _hex(value: bytes, size: int, name: str) -> str | None:
    """An id as OTLP/JSON writes it; one of the wrong size breaks the line."""
    if value and len(value) != size:
        raise quarantine.RowRejected(quarantine.WRONG_TYPE, f"{name}: not {size} bytes")
    return value.hex() if value else None


def _parts(nanos: int) -> list[int] | None:
    """[s, ns] as the JS SDK writes times; None for 0 (OTLP's unset)."""
    return [nanos // 1_000_000_000, nanos % 1_000_000_000] if nanos else None


def _value(any_value) -> Any:
    kind = any_value.WhichOneof("value")
    if kind == "array_value":
        return [_value(item) for item in any_value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: _value(kv.value) for kv in any_value.kvlist_value.values}
    if kind == "bytes_value":
        return base64.b64encode(any_value.bytes_value).decode("ascii")
    return getattr(any_value, kind) if kind else None


def _attributes(key_values) -> dict:
    return {kv.key: _value(kv.value) for kv in key_values}


def _without_none(record: dict) -> dict:
    return {key: value for key, value in record.items() if value is not None}


def _span(span) -> dict:
    return _without_none(
        {
            "type": "span",
            "traceId": _hex(span.trace_id, 16, "traceId"),
            "spanId": _hex(span.span_id, 8, "spanId"),
            "parentSpanId": _hex(span.parent_span_id, 8, "parentSpanId"),
            "name": span.name,
            "kind": int(span.kind),
            "startTime": _parts(span.start_time_unix_nano),
            "endTime": _parts(span.end_time_unix_nano),
            "status": {"code": int(span.status.code)},
            "attributes": _attributes(span.attributes),
        }
    )


def _log(log_record) -> dict:
    body = log_record.body
    return _without_none(
        {
            "timeUnixNano": log_record.time_unix_nano or None,
            "observedTimestamp": None
            if log_record.time_unix_nano
            else log_record.observed_time_unix_nano or None,
            "traceId": _hex(log_record.trace_id, 16, "traceId"),
            "spanId": _hex(log_record.span_id, 8, "spanId"),
            "body": body.string_value if body.WhichOneof("value") == "string_value" else None,
            "eventName": log_record.event_name or None,
            "attributes": _attributes(log_record.attributes),
        }
    )
