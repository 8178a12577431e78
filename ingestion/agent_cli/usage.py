"""What every agent CLI's reader produces: the usage rows of one log file, counted by ccusage
20.0.24's rules for that CLI, as `raw.agent_cli_usage` holds them.

A reader is a plain function `parse(data: bytes, log: LogFile, context: LoadContext) -> Parsed`.
It never raises for a bad record: the record goes to `Parsed.rejections` (reason and key, never
a value) and the rest of the file is read. Rules that need more than one file (Codex's
cross-file de-duplication and fork parents, OpenCode's database-over-file, Copilot's OTel spans
suppressed by a shutdown) are applied in dbt, from the columns below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from ingestion.core.contract_fields import Record
from ingestion.core.quarantine import Rejection

# The token counts of a usage row, as ccusage shows them: input without cache (inputTokens),
# output, cache reads and writes, reasoning (informational), extra output (priced as output,
# counted in the total, shown in no column), and the total.
TOKEN_COLUMNS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_creation_tokens",
    "reasoning_tokens",
    "extra_output_tokens",
    "total_tokens",
)

# The columns a reader fills (any it leaves out are null). Token counts are what ccusage shows:
# `input_tokens` without cache, `extra_output_tokens` priced at the output rate and counted in
# the total but shown in no column (Gemini thoughts, OpenCode reasoning).
USAGE_COLUMNS = (
    "record_key",  # unique in the file: "12" (line), "12:gpt-5" (line x model), a message id
    "record_index",  # order in the file (0-based)
    "record_kind",  # token_count | message | shutdown | otel_chat_span | otel_inference_log ...
    "session_id",  # ccusage's session key for this CLI
    "thread_id",  # Codex: the file's session_meta id
    "forked_from_id",  # Codex: the parent thread a fork replays
    "message_id",
    "response_id",  # OTel gen_ai.response.id
    "trace_id",
    "project",  # Gemini project hash, Codex/OpenCode working folder
    "occurred_at",
    "model",  # as ccusage shows it
    "provider",
    "is_fallback_model",  # Codex: no model in the log, priced as gpt-5
    *TOKEN_COLUMNS,
    "request_count",
    "logged_cost_usd",  # what the CLI itself recorded (OpenCode `cost` > 0)
    "tier_rule",  # model: the model's long-context rule; whole: the CLI's (`tier_basis_tokens`)
    "tier_basis_tokens",  # with `whole`: what is compared with the model's threshold
    "usage_ordinal",  # Codex: 1 for the file's first usage event, 2 ...
    "in_leading_burst",  # Codex: in the file's leading replay burst (<= 1 s apart)
    "is_replayed_turn",  # Codex: a fork's replay of a turn its parent started before the fork
    "dedup_key",  # Codex: timestamp (ms), model and the six counts
    "origin",  # OpenCode: db (table message) | db_v2 (table session_message) | file
)

# The columns of a tool/error row (`raw.agent_cli_tool_events`).
TOOL_COLUMNS = (
    "record_key",
    "session_id",
    "trace_id",
    "occurred_at",
    "tool_name",
    "is_error",
    "error_type",
    "duration_ms",
)

# Bounds of a bigint column; a count past them is quarantined, not wrapped.
BIGINT_MAX = 2**63 - 1


class UsageRecord(Record):
    """A record an agent CLI's reader validates: its fields are counted into usage rows
    rather than stored one to one."""

    unmapped_column: ClassVar[str] = "agent_cli_usage (counted)"


@dataclass(frozen=True)
class LogFile:
    """A file a reader reads: its key in the warehouse (redacted path, with its root's label),
    and what its path says (ccusage takes some session ids from paths)."""

    path: object  # pathlib.Path
    key: str
    relative: str  # the path below the configured folder, with '/'
    session_id: str | None = None


@dataclass
class Parsed:
    rows: list[dict] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    # Lines (or records of a JSON document) looked at; each is a usage row's source, rejected,
    # or holds no usage.
    records_read: int = 0
