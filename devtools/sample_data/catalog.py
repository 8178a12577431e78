"""The cast of the sample dataset: hosts, agents, hooks, tools and models."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Host:
    host_id: str
    client_version: str
    # Hours to add to UTC for the host owner's working day (drives the heatmap's shape).
    utc_offset_hours: int
    # The client's clock error; created_at is the client's clock.
    clock_skew_seconds: int
    # Clients before 2.0 JSON.stringify jsonb values, so the collector stores a JSON string.
    double_encodes_json: bool
    weight: float
    repos: tuple[str, ...]
    # Clients before 2.0 start a new session id in every hook process, so the warehouse has to
    # derive sessions; 1.8 clients also report no token usage (the warehouse estimates it).
    per_process_session_ids: bool = False
    reports_token_usage: bool = True


HOSTS: tuple[Host, ...] = (
    Host(
        "laptop",
        "2.3.1",
        1,
        4,
        False,
        3.0,
        ("/home/tim/src/agent-framework", "/home/tim/src/nixos", "/home/tim/src/website"),
    ),
    Host(
        "workstation",
        "1.9.4",
        1,
        -95,
        True,
        2.5,
        ("/home/tim/src/agent-framework", "/home/tim/src/telemetry", "/home/tim/src/infra"),
        per_process_session_ids=True,
    ),
    Host(
        "ci-runner-1", "2.3.0", 0, 0, False, 1.2, ("/builds/agent-framework", "/builds/telemetry")
    ),
    Host(
        "mbp-anna",
        "1.8.2",
        -5,
        37,
        True,
        1.6,
        ("/Users/anna/code/payments-api", "/Users/anna/code/mobile-app"),
        per_process_session_ids=True,
        reports_token_usage=False,
    ),
    Host(
        "devbox-raj",
        "2.2.7",
        5,
        -12,
        False,
        1.4,
        ("/home/raj/work/data-pipeline", "/home/raj/work/ml-serving", "/home/raj/work/docs"),
    ),
    Host("build-server", "2.1.0", 0, 210, False, 0.8, ("/srv/build/monorepo",)),
)


@dataclass(frozen=True)
class Agent:
    name: str
    hooks: tuple[str, ...]
    # Share of this agent's executions that call an LLM (the rest are pure TypeScript).
    llm_share: float
    tiers: tuple[str, ...]
    weight: float


AGENTS: tuple[Agent, ...] = (
    Agent("tool-approve", ("PreToolUse",), 0.55, ("haiku",), 5.0),
    Agent("code-review", ("PostToolUse", "Stop"), 0.95, ("sonnet", "opus"), 1.6),
    Agent("commit-message", ("Stop",), 1.0, ("haiku", "sonnet"), 0.6),
    Agent("security-scan", ("PreToolUse",), 0.35, ("haiku", "sonnet"), 1.4),
    Agent("intent-check", ("UserPromptSubmit",), 0.9, ("haiku",), 1.2),
    Agent("test-runner", ("PostToolUse",), 0.1, ("haiku",), 0.9),
    Agent("plan-validator", ("SubagentStop", "Stop"), 0.85, ("sonnet", "opus"), 0.5),
)

# (tool, weight). Weighted the way coding agents actually spend their calls.
TOOLS: tuple[tuple[str, float], ...] = (
    ("Bash", 6.0),
    ("Read", 7.0),
    ("Edit", 4.0),
    ("Write", 1.5),
    ("Grep", 3.0),
    ("Glob", 2.0),
    ("MultiEdit", 1.0),
    ("TodoWrite", 1.2),
    ("WebFetch", 0.5),
    ("Task", 0.8),
    ("WebSearch", 0.3),
)

MODELS: dict[str, tuple[str, ...]] = {
    "haiku": ("claude-3-5-haiku-20241022", "claude-haiku-4-5-20251001"),
    "sonnet": ("claude-sonnet-4-20250514", "claude-sonnet-4-5-20250929"),
    "opus": ("claude-opus-4-1-20250805",),
}

# USD per million tokens: (prompt, completion, cached prompt). What the cost worker charges.
MODEL_PRICES: dict[str, tuple[float, float, float]] = {
    "claude-3-5-haiku-20241022": (0.80, 4.00, 0.08),
    "claude-haiku-4-5-20251001": (1.00, 5.00, 0.10),
    "claude-sonnet-4-20250514": (3.00, 15.00, 0.30),
    "claude-sonnet-4-5-20250929": (3.00, 15.00, 0.30),
    "claude-opus-4-1-20250805": (15.00, 75.00, 1.50),
}

# Median latency (ms) by tier; typescript agents answer in milliseconds.
TIER_LATENCY_MS = {"haiku": 900.0, "sonnet": 2600.0, "opus": 6500.0}
TIER_PROMPT_TOKENS = {"haiku": 1400.0, "sonnet": 3800.0, "opus": 5200.0}

ERROR_REASONS: tuple[str, ...] = (
    "Rate limit exceeded: 429 Too Many Requests from provider",
    "Request timed out after 30000ms waiting for model response",
    "401 Unauthorized: API key rejected by provider",
    "connection refused: ECONNREFUSED while contacting api endpoint",
    "Schema validation failed: invalid tool input, missing field 'command'",
    "tool error: Bash exited with status 1",
    "Tool failed: Edit could not find the string to replace",
    "deadline exceeded while streaming completion",
    "network unreachable: getaddrinfo EAI_AGAIN",
)

APPROVE_REASONS: tuple[str, ...] = (
    "Read-only command inside the project directory",
    "File edit within the working tree; no secrets touched",
    "Standard test invocation",
    "Safe search command",
    "Matches an allow-listed pattern",
)

DENY_REASONS: tuple[str, ...] = (
    "Command deletes files outside the working directory",
    "Attempt to push directly to main without review",
    "Writes to a credentials file",
    "Network call to an unknown host during tests",
    "Invalid command: would overwrite uncommitted changes",
)

CONFIRM_REASONS: tuple[str, ...] = (
    "Dependency upgrade changes the lock file; asking the user",
    "Migration drops a column; needs confirmation",
    "Unclear intent: ambiguous request, clarify with the user",
)
