"""The Claude Code record contract: one line of a session log. See ingestion/contracts.py for
what a contract declares."""

import json
import re
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, AliasChoices, BeforeValidator, Field, ValidationInfo

from ingestion.core import quarantine, redaction
from ingestion.core.contract_fields import (
    NAME_CHARS,
    TOKENS_MAX,
    LoadContext,
    Record,
    boolean,
    contract_error,
    cost,
    identifier,
    integer,
    name,
    path,
    text,
    timestamp,
)

# --- Claude Code session logs -----------------------------------------------------------------


@dataclass(frozen=True)
class MessageContent:
    """What the warehouse keeps of a message's content blocks: readable text (redacted), the
    tool calls and the tool results."""

    text: str
    tool_uses: tuple[dict, ...] = ()
    tool_results: tuple[dict, ...] = ()


_SURROGATE = re.compile("[\ud800-\udfff]")


def dumps_any(value: Any) -> str:
    """Any parsed JSON as text, to measure or read it (never stored as JSON)."""
    return json.dumps(value, ensure_ascii=False, default=str)


def _readable(value: Any, context: LoadContext) -> str:
    """Text to keep and count tokens of: NUL bytes dropped, broken surrogates replaced (they
    occur in real logs and cannot be stored), secrets redacted."""
    if not isinstance(value, str):
        value = dumps_any(value)
    value = _SURROGATE.sub("\ufffd", value.replace("\x00", ""))
    if context.clean:
        return value
    redacted, found = redaction.redact(value)
    context.redactions.update(found)
    return redacted


def _block_id(
    block: dict, key: str, index: int, context: LoadContext, required: bool
) -> str | None:
    value = block.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or "\x00" in value or len(value) > NAME_CHARS:
        raise contract_error(quarantine.WRONG_TYPE, f"{index}.{key}")
    clean = _readable(value, context)
    return redaction.fingerprint(clean, value, context.fingerprint_key) if clean != value else value


def _content(value: Any, info: ValidationInfo) -> MessageContent:
    context: LoadContext = info.context
    if value is None:
        return MessageContent("")
    if isinstance(value, str):
        return MessageContent(_readable(value, context))
    if not isinstance(value, list):
        return MessageContent("")
    texts, uses, results = [], [], []
    for index, block in enumerate(value):
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text":
            texts.append(_readable(block.get("text", ""), context))
        elif kind == "thinking":
            texts.append(_readable(block.get("thinking", ""), context))
        elif kind == "tool_use":
            tool_input = block.get("input")
            use = {
                "id": _block_id(block, "id", index, context, True),
                "name": _block_id(block, "name", index, context, True),
                "input_chars": len(dumps_any(tool_input)),
            }
            if isinstance(tool_input, dict) and tool_input.get("subagent_type"):
                # Task: which subagent.
                use["subagent_type"] = _block_id(tool_input, "subagent_type", index, context, True)
            uses.append(use)
        elif kind == "tool_result":
            body = block.get("content")
            body_text = _readable(body, context)
            texts.append(body_text)
            results.append(
                {
                    "tool_use_id": _block_id(block, "tool_use_id", index, context, True),
                    "is_error": block.get("is_error") is True,
                    "content_chars": len(body_text),
                }
            )
    return MessageContent("\n".join(t for t in texts if t), tuple(uses), tuple(results))


Content = Annotated[Any, AfterValidator(_content), Field(None, validate_default=True)]


class CacheCreation(Record):
    ephemeral_5m_input_tokens: integer("cache_creation_5m_tokens", maximum=TOKENS_MAX)
    ephemeral_1h_input_tokens: integer("cache_creation_1h_tokens", maximum=TOKENS_MAX)


class Usage(Record):
    input_tokens: integer("input_tokens", maximum=TOKENS_MAX)
    output_tokens: integer("output_tokens", maximum=TOKENS_MAX)
    cache_creation_input_tokens: integer("cache_creation_input_tokens", maximum=TOKENS_MAX)
    cache_read_input_tokens: integer("cache_read_input_tokens", maximum=TOKENS_MAX)
    cache_creation: CacheCreation | None = None
    speed: name("speed")  # "fast": Claude Code's fast mode, priced as `<model>-fast`


class ClaudeCodeMessage(Record):
    id: identifier("message_id")
    role: name("message_role")
    model: name("model")
    stop_reason: name("stop_reason")
    usage: Usage | None = None
    content: Content


# Claude Code spells it costUSD, not the camel case of cost_usd.
COST_USD = Field(validation_alias=AliasChoices("cost_usd", "costUSD"))


def _relayed(value: Any) -> Any:
    """`data` of a `progress` line when it relays a subagent's message (`data.message.message`
    an object); any other `data` (hook progress, text) is not a message and is left alone."""
    if (
        isinstance(value, dict)
        and isinstance(value.get("message"), dict)
        and isinstance(value["message"].get("message"), dict)
    ):
        return value
    return None


class RelayedMessage(Record):
    """`data.message` of a `progress` line: a subagent's API response as the parent log relays
    it, with its own time, request id, sidechain flag and cost."""

    source_case: ClassVar[str] = "camel"
    timestamp: timestamp("usage_at")
    request_id: identifier("request_id")
    is_sidechain: boolean("is_sidechain")
    cost_usd: Annotated[cost("cost_usd"), COST_USD]
    message: ClaudeCodeMessage | None = None


class Relay(Record):
    message: RelayedMessage | None = None


class ClaudeCodeLine(Record):
    """One line of a Claude Code session log. Unknown fields and line types are fine."""

    source_case: ClassVar[str] = "camel"
    type: name("line_type")
    session_id: identifier("session_id")
    uuid: identifier("uuid")
    parent_uuid: identifier("parent_uuid")
    timestamp: timestamp("occurred_at")
    version: name("version")
    cwd: path("cwd")
    git_branch: name("git_branch")
    is_sidechain: boolean("is_sidechain")
    agent_id: identifier("agent_id")
    request_id: identifier("request_id")
    cost_usd: Annotated[cost("cost_usd"), COST_USD]
    message: ClaudeCodeMessage | None = None
    data: Annotated[Relay | None, BeforeValidator(_relayed)] = None
    summary: text(None, max_chars=None)
    content: Content
