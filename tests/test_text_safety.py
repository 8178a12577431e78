import pytest

from ingestion import tokenizer
from ingestion.redaction import redact

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


@pytest.mark.parametrize("kind", sorted(PLANTED))
def test_each_kind_of_secret_is_redacted(kind):
    text, counts = redact(PLANTED[kind])
    assert f"[REDACTED:{kind}]" in text
    assert counts[kind] == 1


def test_plain_text_is_untouched():
    text = "Let me look at src/server.ts and run the tests."
    assert redact(text) == (text, {})


def test_offline_encoding_counts_tokens():
    assert tokenizer.count_tokens(["hello world", ""]) == [2, 0]


def test_unknown_encoding_is_a_clear_error():
    with pytest.raises(tokenizer.EncodingUnavailable, match="unknown tiktoken encoding"):
        tokenizer.count_tokens(["x"], "no_such_encoding")


CORPUS = [
    *PLANTED.values(),
    "plain text with nothing to hide",
    "mail anna@example.com and bob@ex.org",
    "postgres://admin:hunter2@db.internal:5432/app and sk-ant-api03-abcdefghijklmnopqrstuv",
    "see https://github.com/x/y and gh pages",
    "ghp_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ12 AKIAIOSFODNN7EXAMPLE",
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA\n"
    "-----END OPENSSH PRIVATE KEY-----\nafter the key",
    "sk-short is not a key; user@localhost is not an address",
]


def test_sql_redaction_matches_python_redaction(pg_base_url):
    """The collector's query redacts with redaction.sql_redact; it must agree with redact()."""
    from ingestion.connections import connect
    from ingestion.redaction import sql_redact

    with connect(pg_base_url) as conn:
        for text in CORPUS:
            in_sql = conn.execute(
                f"select {sql_redact('t.x').replace('%', '%%')} from (select %s::text as x) as t",
                (text,)).fetchone()[0]
            assert in_sql == redact(text)[0], text
