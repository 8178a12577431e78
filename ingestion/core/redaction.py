"""Secrets and e-mail addresses are replaced by `[REDACTED:<kind>]` before anything is stored.

Every string that reaches the warehouse from any source passes here (the record contracts call
it on every text field and every string inside JSON), so this module is the one redactor: the
collector's COPY stream sends the rows that may hold a secret here (`may_hold_secret`).

The formats come from detect-secrets' plugins where they describe a token's shape (AWS, GitHub,
GitLab, Slack, Stripe, Azure storage, Twilio, SendGrid, Mailchimp, npm, PyPI, Discord, Telegram,
Square, basic auth), used as the plugin defines them, and from our own patterns where a span must
be cut out whole (private-key blocks), where detect-secrets needs quotes or context we do not
have (`password=` values, DSN passwords with any characters, bearer tokens, JWTs) or has no
plugin (Anthropic, current OpenAI and Google keys, e-mail addresses).

Each pattern names the literal substrings (lowercase) that any match contains, or, where those
would be too common (one or two letters), a simple regex any match also matches. Together they
make one RE2 search (linear time, hundreds of MB/s), `may_hold_secret`: text it finds nothing in
is not searched further, and the collector's COPY stream passes such rows straight through. A
test generates matches of every pattern and checks that the search finds each one, as it is and
as the collector's COPY and jsonb print it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections import Counter
from dataclasses import dataclass

import re2
from detect_secrets.plugins import (
    aws,
    azure_storage_key,
    basic_auth,
    discord,
    github_token,
    gitlab_token,
    mailchimp,
    npm,
    pypi_token,
    sendgrid,
    slack,
    square_oauth,
    stripe,
    telegram_token,
    twilio,
)

MARKER = "[REDACTED:"
ANY_GROUP = -1


@dataclass(frozen=True)
class Pattern:
    kind: str
    regex: re.Pattern
    # Lowercase literals, one of which every match contains.
    triggers: tuple[str, ...]
    # The group holding the secret (0: the whole match; ANY_GROUP: whichever group took part);
    # the rest of the match stays.
    group: int = 0
    # Where the triggers are too short or too common words: a regex (RE2's dialect, read
    # case-insensitively) that every match also matches, as it is and as COPY and jsonb print
    # it.
    route: str | None = None


def _ascii(regex: str | re.Pattern) -> re.Pattern:
    """Secrets are ASCII: digits, spaces and word characters mean ASCII ones (Python's would
    also match Devanagari digits and Unicode spaces)."""
    if isinstance(regex, str):
        return re.compile(regex, re.ASCII)
    return re.compile(regex.pattern, (regex.flags & ~re.UNICODE) | re.ASCII)


def _ours(
    kind: str, pattern: str, triggers: tuple[str, ...], group: int = 0, route: str | None = None
) -> Pattern:
    return Pattern(kind, _ascii(pattern), triggers, group, route)


# Routes are also searched in text as COPY and jsonb print it, where a quote may come escaped
# (`\\"`, its backslash doubled by COPY) and a space as `\\t` or `\\u000b`.
_SPACE = r"([\s\v]|\\+[tnrfbv]|\\+u00[0-9a-f]{2})"  # RE2's \s lacks \v
_URL_PASSWORD = r"://[^\s\v:/@]+:[^\s\v]*@"
_KEYWORD = (
    r"(password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key"
    rf"|credentials?)[\\\"']*{_SPACE}*(=>|[:=])"
)
# A value after `password=`, `"secret": ` and the like: quoted, or up to a separator.
_VALUE = r"""(?!\[REDACTED)(?:"([^"\r\n]+)"|'([^'\r\n]+)'|([^\s"',;&<>)}\]]+))"""
_KEY_BLOCK_END = r"(?:[^-]|-(?!----END ))*(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----)?"

# Applied in this order: whole blocks first, then specific formats, then generic ones.
_OWN_FIRST: tuple[Pattern, ...] = (
    _ours(
        "private_key",
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----" + _KEY_BLOCK_END,
        ("private key",),
    ),
    _ours(
        "private_key",
        r"---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----(?:[^-]|-(?!--- END ))*"
        r"(?:---- END SSH2 ENCRYPTED PRIVATE KEY ----)?",
        ("private key",),
    ),
    _ours(
        "private_key",
        r"PuTTY-User-Key-File-\d+:(?:[^P]|P(?!rivate-MAC:))*"
        r"(?:Private-MAC: *[0-9a-fA-F]*)?",
        ("putty-user-key-file-",),
    ),
    _ours(
        "connection_password",
        r"\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@]+:(\S+)@",
        ("://",),
        group=1,
        route=_URL_PASSWORD,
    ),
    _ours("anthropic_key", r"\bsk-ant-[A-Za-z0-9_\-]{16,}", ("sk-ant-",)),
    _ours(
        "openai_key",
        r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}",
        ("sk-",),
        route=r"sk-[a-z0-9_-]{20}",
    ),
    _ours("google_api_key", r"AIza[0-9A-Za-z_\-]{35}", ("aiza",)),
    _ours("google_client_secret", r"GOCSPX-[A-Za-z0-9_\-]{20,}", ("gocspx-",)),
    _ours("azure_client_secret", r"[A-Za-z0-9_~.\-]{3}8Q~[A-Za-z0-9_~.\-]{31,34}", ("8q~",)),
    _ours("azure_sas_signature", r"[?&]sig=([A-Za-z0-9%+/=]{16,})", ("sig=",), group=1),
    _ours(
        "github_token", r"\bgh[pousr]_[A-Za-z0-9_]{36,}", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_")
    ),
    _ours("github_token", r"\bgithub_pat_[A-Za-z0-9_]{22,}", ("github_pat_",)),
    _ours(
        "slack_token",
        r"\bxox[abposr]-[A-Za-z0-9\-]{10,}",
        ("xoxa-", "xoxb-", "xoxp-", "xoxo-", "xoxs-", "xoxr-"),
    ),
    _ours("slack_token", r"\bxapp-\d-[A-Za-z0-9]+-\d+-[A-Za-z0-9]+", ("xapp-",)),
    _ours("stripe_key", r"\b[rs]k_(?:live|test)_[0-9a-zA-Z]{16,}", ("k_live_", "k_test_")),
    _ours(
        "jwt",
        r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*",
        ("eyj",),
        route=r"eyj[a-z0-9_-]{8}",
    ),
    _ours(
        "bearer_token",
        r"(?i)\bbearer\s+(?!\[REDACTED)([A-Za-z0-9._~+/\-]{8,}=*)",
        ("bearer",),
        group=1,
        route=rf"bearer{_SPACE}+[a-z0-9._~+/-]{{8}}",
    ),
)

# detect-secrets' own denylist regexes: per regex, the triggers its matches contain, the group
# that holds the secret (0: the whole match; some plugins group a prefix, not a secret) and,
# where the triggers are one or two letters, a route.
_DETECT_SECRETS: tuple[tuple[str, type, tuple[tuple, ...]], ...] = (
    (
        "aws_access_key",
        aws.AWSKeyDetector,
        (
            (
                ("a3t", "abia", "acca", "akia", "asia"),
                0,
                r"(a3t[a-z0-9]|abia|acca|akia|asia)[0-9a-z]{16}",
            ),
            (
                ("aws",),
                1,
                r"aws.{0,200}(key|pwd|pw|password|pass|token).{0,200}['\"][0-9a-z/+]{40}",
            ),
        ),
    ),
    ("azure_storage_key", azure_storage_key.AzureStorageKeyDetector, ((("accountkey=",), 0),)),
    ("basic_auth", basic_auth.BasicAuthDetector, ((("://",), 1, _URL_PASSWORD),)),
    (
        "discord_token",
        discord.DiscordBotTokenDetector,
        ((("m", "n", "o"), 0, r"[mno][a-z0-9_-]{23,25}\.[a-z0-9_-]{6}\.[a-z0-9_-]{27}"),),
    ),
    (
        "github_token",
        github_token.GitHubTokenDetector,
        ((("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), 0),),
    ),
    (
        "gitlab_token",
        gitlab_token.GitLabTokenDetector,
        (
            (("glpat-", "gldt-", "glft-", "glsoat-", "glrt-"), 0),
            (("gr1348941",), 0),
            (("glcbt-",), 0),
            (("glimt-",), 0),
            (("glptt-",), 0),
            (("glagent-",), 0),
            (("gloas-",), 0),
        ),
    ),
    ("mailchimp_key", mailchimp.MailchimpDetector, ((("-us",), 0, r"[0-9a-z]{32}-us[0-9]"),)),
    ("npm_token", npm.NpmDetector, ((("_authtoken=",), 1),)),
    ("pypi_token", pypi_token.PypiTokenDetector, ((("pypi-",), 0), (("pypi-",), 0))),
    ("sendgrid_key", sendgrid.SendGridDetector, ((("sg.",), 0, r"sg\.[a-z0-9_-]{22}\."),)),
    (
        "slack_token",
        slack.SlackDetector,
        (
            (("xoxa-", "xoxb-", "xoxp-", "xoxo-", "xoxs-", "xoxr-"), 0),
            (("hooks.slack.com/services/",), 0),
        ),
    ),
    ("square_oauth", square_oauth.SquareOAuthDetector, ((("sq0csp-",), 0),)),
    ("stripe_key", stripe.StripeDetector, ((("k_live_",), 0),)),
    (
        "telegram_token",
        telegram_token.TelegramBotTokenDetector,
        (((":",), 0, r"[0-9]{8}:[0-9a-z_-]{35}"),),
    ),
    (
        "twilio_key",
        twilio.TwilioKeyDetector,
        ((("ac",), 0, r"ac[a-z0-9]{32}"), (("sk",), 0, r"sk[a-z0-9]{32}")),
    ),
)

_OWN_LAST: tuple[Pattern, ...] = (
    # `password=…`, `"api_key": "…"`, `PGPASSWORD=…`: the value, whatever its characters.
    _ours(
        "password",
        r"(?i)(?:password|passwd|pwd|secret|token|api[_\-]?key|access[_\-]?key"
        r"|private[_\-]?key|credentials?)[\"']?\s*(?:=>|[:=])\s*" + _VALUE,
        (
            "password",
            "passwd",
            "pwd",
            "secret",
            "token",
            "api_key",
            "api-key",
            "apikey",
            "access_key",
            "access-key",
            "accesskey",
            "private_key",
            "private-key",
            "privatekey",
            "credential",
        ),
        group=ANY_GROUP,
        route=_KEYWORD,
    ),
    _ours(
        "email",
        r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}\b",
        ("@",),
        route=r"[a-z0-9._%+-]@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2}",
    ),
)


def _detect_secrets_patterns() -> tuple[Pattern, ...]:
    patterns = []
    for kind, plugin, triggers in _DETECT_SECRETS:
        if len(plugin.denylist) != len(triggers):
            raise RuntimeError(
                f"detect-secrets' {plugin.__name__} changed: its patterns need "
                "their triggers reviewed in ingestion/core/redaction.py"
            )
        for regex, (trigger, group, *route) in zip(plugin.denylist, triggers, strict=True):
            patterns.append(
                Pattern(kind, _ascii(regex), trigger, group, route[0] if route else None)
            )
    return tuple(patterns)


PATTERNS: tuple[Pattern, ...] = (*_OWN_FIRST, *_detect_secrets_patterns(), *_OWN_LAST)


def _replace(pattern: Pattern, text: str, counts: Counter) -> str:
    def substitute(match: re.Match) -> str:
        group = pattern.group
        if group == ANY_GROUP:
            group = next(i for i, g in enumerate(match.groups(), start=1) if g is not None)
        secret = match.group(group)
        if not secret or secret.startswith(MARKER):
            return match.group(0)
        counts[pattern.kind] += 1
        if not group:
            return f"{MARKER}{pattern.kind}]"
        start, end = match.span(group)
        offset = match.start(0)
        whole = match.group(0)
        return whole[: start - offset] + f"{MARKER}{pattern.kind}]" + whole[end - offset :]

    return pattern.regex.sub(substitute, text)


def _scan_pattern() -> str:
    weak = [p for p in PATTERNS if p.route]
    literals = sorted({t for p in PATTERNS if p not in weak for t in p.triggers})
    # The search runs over text as the collector's COPY and jsonb print it, too: nothing it
    # looks for may be a character they escape.
    for literal in literals:
        if any(c in literal for c in '\\"\t\n\r'):
            raise RuntimeError(f"{literal!r}: a trigger must not hold what COPY escapes")
    return "|".join([*(re.escape(t) for t in literals), *(f"(?:{p.route})" for p in weak)])


def _compile_scan(pattern: str | bytes):
    options = re2.Options()
    options.case_sensitive = False
    # Room for RE2's DFA: with its default 8 MiB it falls back to a scan ten times slower.
    options.max_mem = 64 << 20
    return re2.compile(pattern, options)


_SCAN = _compile_scan(_scan_pattern())
_SCAN_BYTES = _compile_scan(_scan_pattern().encode())


def may_hold_secret(text: str | bytes) -> bool:
    """Whether `redact` could change `text` (or anything in these bytes): never false when it
    could, true for some more."""
    return (_SCAN_BYTES if isinstance(text, bytes) else _SCAN).search(text) is not None


def redact(text: str) -> tuple[str, Counter]:
    """The text with every secret replaced, and how many of each kind were replaced."""
    counts: Counter = Counter()
    if _SCAN.search(text) is None:
        return text, counts
    lowered = text.lower()
    for pattern in PATTERNS:
        if any(trigger in lowered for trigger in pattern.triggers):
            replaced = _replace(pattern, text, counts)
            if replaced != text:
                text = replaced
                lowered = text.lower()
    return text, counts


def fingerprint(redacted: str, original: str, key: bytes) -> str:
    """An identifier that held a secret: its redacted form plus a keyed hash of the original,
    so that two different ids stay different (and group the same way) without revealing it."""
    digest = hmac.new(key, original.encode("utf-8"), hashlib.sha256).hexdigest()[:16]
    return f"{redacted}#{digest}"


def redact_identifier(value: str, key: bytes) -> tuple[str, Counter]:
    """An id, name or path with its secrets replaced and, if it held any, fingerprinted."""
    redacted, counts = redact(value)
    return (fingerprint(redacted, value, key) if counts else value), counts
