"""Secrets and e-mail addresses are replaced by `[REDACTED:<kind>]` before text is stored."""

from __future__ import annotations

import re
from collections import Counter

# Order matters: the more specific key formats come before the generic ones.
_PATTERNS: tuple[tuple[str, str], ...] = (
    ("private_key", r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[\s\S]*?"
                    r"(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|\Z)"),
    ("anthropic_key", r"\bsk-ant-[A-Za-z0-9_\-]{16,}"),
    ("openai_key", r"\bsk-(?:proj-)?[A-Za-z0-9_\-]{20,}"),
    ("aws_access_key", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    ("github_token", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})"),
    ("slack_token", r"\bxox[abprs]-[A-Za-z0-9\-]{10,}"),
    ("jwt", r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
    ("connection_password", r"(?<=://)[^\s:/@]+:[^\s@/]+(?=@)"),
    ("email", r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}\b"),
)

_COMBINED = re.compile("|".join(f"(?P<{kind}>{pattern})" for kind, pattern in _PATTERNS))
# Cheap pre-filter: text without any of these cannot match, and most text has none.
_TRIGGERS = ("sk-", "AKIA", "ASIA", "gh", "github_pat_", "xox", "eyJ", "://", "@", "PRIVATE KEY")


def redact(text: str) -> tuple[str, Counter]:
    """Return the redacted text and how many of each kind were replaced."""
    counts: Counter = Counter()
    if not any(trigger in text for trigger in _TRIGGERS):
        return text, counts

    def _replace(match: re.Match) -> str:
        kind = match.lastgroup
        counts[kind] += 1
        if kind == "connection_password":
            user = match.group(0).split(":", 1)[0]
            return f"{user}:[REDACTED:{kind}]"
        return f"[REDACTED:{kind}]"

    return _COMBINED.sub(_replace, text), counts


# The same rules in PostgreSQL's regex dialect (ARE), applied in this order, for text that is
# redacted by the database before it reaches the warehouse (collector decision reasons). ARE has
# no reliable non-greedy mode, so key bodies stop at the first dash instead. A test keeps both
# implementations giving the same output.
SQL_PATTERNS: tuple[tuple[str, str, str], ...] = (
    ("private_key",
     r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[^-]*(-----END [A-Z0-9 ]*PRIVATE KEY-----)?",
     "[REDACTED:private_key]"),
    ("anthropic_key", r"\ysk-ant-[A-Za-z0-9_-]{16,}", "[REDACTED:anthropic_key]"),
    ("openai_key", r"\ysk-(proj-)?[A-Za-z0-9_-]{20,}", "[REDACTED:openai_key]"),
    ("aws_access_key", r"\y(AKIA|ASIA)[0-9A-Z]{16}\y", "[REDACTED:aws_access_key]"),
    ("github_token", r"\y(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})",
     "[REDACTED:github_token]"),
    ("slack_token", r"\yxox[abprs]-[A-Za-z0-9-]{10,}", "[REDACTED:slack_token]"),
    ("jwt", r"\yeyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}", "[REDACTED:jwt]"),
    ("connection_password", r"(://[^[:space:]:/@]+):[^[:space:]@/]+@",
     "\\1:[REDACTED:connection_password]@"),
    ("email", r"\y[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\y",
     "[REDACTED:email]"),
)
# LIKE patterns matching what every rule needs (the SQL twin of _TRIGGERS).
SQL_TRIGGERS = ("%sk-%", "%AKIA%", "%ASIA%", "%gh%", "%github_pat_%", "%xox%", "%eyJ%", "%://%",
                "%@%", "%PRIVATE KEY%")


def sql_redact(expression: str) -> str:
    """A SQL expression: `expression` with every secret replaced, evaluated by PostgreSQL."""
    redacted = expression
    for _, pattern, replacement in SQL_PATTERNS:
        redacted = (f"regexp_replace({redacted}, '{pattern}', '{replacement}', 'g')")
    triggers = ", ".join(f"'{t}'" for t in SQL_TRIGGERS)
    return (f"case when {expression} like any (array[{triggers}]) then {redacted} "
            f"else {expression} end")
