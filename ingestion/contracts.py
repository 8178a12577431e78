"""The record contracts: every record type the loaders accept, each declared once in its source's
contract.py (collector, file_drops, claude_code) or reader (agent_cli) and registered here.

Each field says what it must be (type, range that fits its raw column, enum, required-ness, size,
the accepted timestamp window) and where it lands. The loaders validate every record with these
models; a record that breaks a rule is quarantined with that rule's reason. The collector's
COPY routes rows that may break one through the same models (`contract_fields.route_sql`), and
the raw tables' blocking checks are generated from them (`contract_fields.violation_sql`).
README's "Record contracts" table is printed from them by `atw contracts`.
"""

from ingestion.agent_cli.codex import CodexLine
from ingestion.agent_cli.copilot import ShutdownLine
from ingestion.agent_cli.gemini import GeminiMessage
from ingestion.agent_cli.opencode import OpenCodeMessage
from ingestion.agent_cli.otel_records import OtelUsageRow
from ingestion.claude_code.contract import ClaudeCodeLine, MessageContent
from ingestion.collector.contract import CollectorEvent, TranscriptHeader, TranscriptMessage
from ingestion.core.contract_fields import Record
from ingestion.file_drops.contract import BatchEvent, MetricEvent

__all__ = [
    "BatchEvent",
    "ClaudeCodeLine",
    "CodexLine",
    "GeminiMessage",
    "OpenCodeMessage",
    "OtelUsageRow",
    "ShutdownLine",
    "CollectorEvent",
    "MessageContent",
    "MetricEvent",
    "TranscriptHeader",
    "TranscriptMessage",
    "CONTRACTS",
]


CONTRACTS: dict[str, type[Record]] = {
    "collector event (`telemetry_events`)": CollectorEvent,
    "collector transcript (`session_transcripts`)": TranscriptHeader,
    "transcript message (`transcript_data[i]`)": TranscriptMessage,
    "batch event (`*.json` `events[i]`)": BatchEvent,
    "metric event (`*.ndjson` line)": MetricEvent,
    "Claude Code line (`*.jsonl` line)": ClaudeCodeLine,
    "Codex rollout line (`*.jsonl` line)": CodexLine,
    "Gemini CLI message (`messages[i]`)": GeminiMessage,
    "OpenCode message (file or `message` row)": OpenCodeMessage,
    "Copilot CLI shutdown (`events.jsonl` line)": ShutdownLine,
    "OTel usage record (span or log record)": OtelUsageRow,
}
