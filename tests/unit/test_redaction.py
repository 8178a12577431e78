"""Redaction: every kind of secret goes, plain text stays, and the collector's SQL routing sends
every text that holds one to the redactor."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion.core import tokenizer
from ingestion.core.redaction import MARKER, PATTERNS, fingerprint, may_hold_secret, redact

PLANTED = {
    "openai_key": "key sk-proj-abcdefghijklmnopqrstuvwxyz0123 here",
    "anthropic_key": "use sk-ant-api03-abcdefghijklmnopqrstuv please",
    "aws_access_key": "AKIAIOSFODNN7EXAMPLE is the id",
    "github_token": "token ghp_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ12",
    "slack_token": "xoxb-123456789012-abcdefghij",
    "jwt": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
    "private_key": "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----",
    "connection_password": "postgres://admin:hunter2@db.internal:5432/app",
    "email": "mail anna.smith@example.com now",
}

# What the first version let through, and more: each text holds one secret, `needle`.
HARD = [
    (
        "pgp",
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG\n\nlQOYBGXabcPGPBODY\n"
        "=abcd\n-----END PGP PRIVATE KEY BLOCK-----",
        "PGPBODY",
    ),
    (
        "encrypted pem",
        "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
        "DEK-Info: AES-128-CBC,0011\n\nMIIEpENCBODY\n-----END RSA PRIVATE KEY-----",
        "ENCBODY",
    ),
    (
        "encrypted pkcs8",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHzBJBgkqPKCS8BODY\n"
        "-----END ENCRYPTED PRIVATE KEY-----",
        "PKCS8BODY",
    ),
    (
        "openssh",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaSSHBODY\n-----END OPENSSH PRIVATE KEY-----",
        "SSHBODY",
    ),
    ("key without end", "-----BEGIN PRIVATE KEY-----\nMIIEvQTRUNCATEDBODY", "TRUNCATEDBODY"),
    ("libpq dsn", "host=db.internal port=5432 password=s3cr3t-Pa55 dbname=app", "s3cr3t-Pa55"),
    ("quoted dsn", "dbname=app password='with spaces too' user=x", "with spaces too"),
    ("url password with / and !", "postgres://admin:pa/ss!w0rd@db:5432/x", "pa/ss!w0rd"),
    ("url password with @", "mysql://u:p@ssw0rd!@host/db", "ssw0rd!"),
    ("PGPASSWORD", "export PGPASSWORD=Tr0ub4dor&3", "Tr0ub4dor"),
    ("json secret", '{"password": "hunter22", "user": "x"}', "hunter22"),
    ("api key", "api_key: AbCdEf0123456789", "AbCdEf0123456789"),
    ("aws then underscore", "AKIAIOSFODNN7EXAMPLE_prod", "IOSFODNN7EXAMPLE"),
    (
        "aws secret",
        'aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"',
        "wJalrXUtnFEMI",
    ),
    ("gcp api key", "key=AIzaSyD-1234567890abcdefghijklmnopqrstu", "AIzaSyD-1234567890"),
    (
        "azure storage",
        "DefaultEndpointsProtocol=https;AccountName=x;AccountKey="
        + "A" * 86
        + "==;EndpointSuffix=core.windows.net",
        "A" * 40,
    ),
    (
        "azure client secret",
        "secret abc8Q~abcdefghijklmnopqrstuvwxyz012345 end",
        "abcdefghijklmnopqrstuvwxyz012345",
    ),
    (
        "azure sas",
        "https://x.blob.core.windows.net/c?sv=2022&sig=abcDEF123%2Bxyz456789ghij",
        "abcDEF123",
    ),
    (
        "github fine-grained",
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstu",
        "11ABCDEFG0123456789",
    ),
    ("gitlab", "glpat-abcdefghij0123456789", "abcdefghij0123456789"),
    (
        "slack webhook",
        "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX",
        "XXXXXXXXXXXXXXXX",
    ),
    ("stripe live", "sk_live_abcdefghijklmnopqrstuvwx", "abcdefghijklmnopqrstuvwx"),
    ("stripe test", "rk_test_abcdefghijklmnop1234", "abcdefghijklmnop1234"),
    ("bearer", "Authorization: Bearer abc.def-ghi_jkl~mno", "abc.def-ghi_jkl~mno"),
    ("jwt", "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_nat-ure", "eyJzdWIiOiIxIn0"),
    ("email in a path", "/home/anna.smith@example.com/project", "anna.smith@example.com"),
    ("openai service account", "sk-svcacct-abcdefghijklmnopqrstuvwx", "abcdefghijklmnopqrst"),
]

PLAIN = [
    "Let me look at src/server.ts and run the tests.",
    "We used 1,200 tokens; the passwords table has no rows.",
    "Asia/Tokyo is the time zone; see the task-list and msg.content",
    "https://github.com/x/y and gh pages, port 8080",
    "The token count is high and the secret sauce is tests.",
]


@pytest.mark.parametrize("kind", sorted(PLANTED))
def test_each_kind_of_secret_is_redacted(kind):
    text, counts = redact(PLANTED[kind])
    assert f"[REDACTED:{kind}]" in text
    assert counts[kind] == 1


@pytest.mark.parametrize(("name", "text", "needle"), HARD, ids=[h[0] for h in HARD])
def test_what_the_first_version_missed_is_redacted(name, text, needle):
    redacted, counts = redact(text)
    assert needle not in redacted and sum(counts.values()) >= 1


@pytest.mark.parametrize("text", PLAIN)
def test_plain_text_is_untouched(text):
    assert redact(text) == (text, {})


def test_identifiers_that_held_a_secret_stay_distinct():
    key = b"k"
    a, b = "/home/a@example.com/x", "/home/b@example.com/x"
    first, second = (fingerprint(redact(v)[0], v, key) for v in (a, b))
    assert first != second and fingerprint(redact(a)[0], a, key) == first
    assert "example.com" not in first


def test_offline_encoding_counts_tokens():
    assert tokenizer.count_tokens(["hello world", ""]) == [2, 0]


def test_unknown_encoding_is_a_clear_error():
    with pytest.raises(tokenizer.EncodingUnavailable, match="unknown tiktoken encoding"):
        tokenizer.count_tokens(["x"], "no_such_encoding")


# --- every pattern, generated --------------------------------------------------------------

GENERATED: list[str] = []


@pytest.mark.parametrize("pattern", PATTERNS, ids=[f"{p.kind}-{i}" for i, p in enumerate(PATTERNS)])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_match_of_every_pattern_is_redacted(pattern, data):
    """Strings made to match the pattern contain one of its triggers, are redacted, and are
    kept for the SQL routing test below."""
    text = data.draw(st.from_regex(pattern.regex))
    match = pattern.regex.search(text)
    secret = match.group(_group(pattern, match))
    if not secret or MARKER in text:
        return
    assert any(trigger in text.lower() for trigger in pattern.triggers)
    redacted, counts = redact(text)
    assert counts, "the text holds a secret and nothing was redacted"
    assert redacted != text
    GENERATED.append(text)


def _group(pattern, match) -> int:
    if pattern.group >= 0:
        return pattern.group
    return next(i for i, g in enumerate(match.groups(), start=1) if g is not None)


def _copy_text(text: str) -> str:
    """How PostgreSQL's COPY prints a text value."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def test_the_scan_finds_every_generated_secret_as_the_collector_prints_it():
    """`may_hold_secret` says yes for every text that held a secret (collected by the test
    above), as it is, as COPY prints a text column, and as COPY prints it inside jsonb (also
    double-encoded); and no for plain text."""
    assert len(GENERATED) > 200
    for text in GENERATED:
        as_json = json.dumps({"k": text}, ensure_ascii=False)
        for form in (
            text,
            _copy_text(text),
            _copy_text(as_json),
            _copy_text(json.dumps(as_json, ensure_ascii=False)),
        ):
            assert may_hold_secret(form), form
            assert may_hold_secret(form.encode("utf-8", "surrogatepass")), form
    assert not any(may_hold_secret(text) for text in PLAIN)
