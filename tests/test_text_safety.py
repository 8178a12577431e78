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
