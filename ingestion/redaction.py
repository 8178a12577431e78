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
