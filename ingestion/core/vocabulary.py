"""The collector's enumerations: one definition for the loaders' validation and the GX suites."""

EVENT_TYPES = ("agent_execution", "hook_decision", "error", "escalation", "commit")
DECISIONS = ("APPROVE", "CONTINUE", "DENY", "CONFIRM", "SUCCESS", "ERROR")
EXECUTION_TYPES = ("llm", "typescript")
MODES = ("direct", "lazy")
MODEL_TIERS = ("haiku", "sonnet", "opus")
MESSAGE_ROLES = ("user", "assistant", "tool_result")
# metric/value events (seed 001): the recommended error taxonomy.
ERROR_CLASSES = ("transient", "quota", "validation", "upstream", "policy", "unknown")
TOOL_CALL_STATUSES = ("success", "error", "timeout", "skipped")
