"""`raw.quarantine`: records that could not be loaded, with reason, key and hash; never the
payload, and never a value in the detail (it names fields, files, lines and exception classes)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

# Reason codes (documented in the README, in this order).
MALFORMED_JSON = "malformed_json"
MISSING_REQUIRED_KEY = "missing_required_key"
UNKNOWN_ENUM = "unknown_enum"
NEGATIVE_VALUE = "negative_value"
OUT_OF_RANGE = "out_of_range"
NON_FINITE = "non_finite_number"
BAD_TIMESTAMP = "unparseable_timestamp"
FUTURE_TIMESTAMP = "future_timestamp"
BEFORE_FLOOR = "timestamp_before_floor"
NUL_BYTE = "nul_byte"
INVALID_UTF8 = "invalid_utf8"
OVERSIZE = "oversize"
TOO_DEEP = "too_deep"
WRONG_TYPE = "wrong_type"
UNREADABLE_FILE = "unreadable_file"
LOAD_ERROR = "load_error"
UNEXPECTED_ERROR = "unexpected_error"

REASON_CODES = frozenset(
    {
        MALFORMED_JSON,
        MISSING_REQUIRED_KEY,
        UNKNOWN_ENUM,
        NEGATIVE_VALUE,
        OUT_OF_RANGE,
        NON_FINITE,
        BAD_TIMESTAMP,
        FUTURE_TIMESTAMP,
        BEFORE_FLOOR,
        NUL_BYTE,
        INVALID_UTF8,
        OVERSIZE,
        TOO_DEEP,
        WRONG_TYPE,
        UNREADABLE_FILE,
        LOAD_ERROR,
        UNEXPECTED_ERROR,
    }
)


@dataclass(frozen=True)
class Rejection:
    source_key: str
    reason_code: str
    row_hash: str
    detail: str = ""


class RowRejected(ValueError):
    """Raised by a parser for a record that must go to quarantine."""

    def __init__(self, reason_code: str, detail: str):
        super().__init__(f"{reason_code}: {detail}")
        self.reason_code = reason_code
        self.detail = detail


def row_hash(payload: bytes | str) -> str:
    data = payload.encode("utf-8", "surrogatepass") if isinstance(payload, str) else payload
    return hashlib.sha256(data).hexdigest()


def rejection(key: str, error: BaseException, payload: bytes | str) -> Rejection:
    """What to quarantine for a record that raised `error` anywhere on its way in: the parser's
    reason, or for anything unforeseen the exception's class (its message may hold a value)."""
    if isinstance(error, RowRejected):
        return Rejection(key, error.reason_code, row_hash(payload), error.detail)
    if isinstance(error, RecursionError):
        return Rejection(key, TOO_DEEP, row_hash(payload), "nesting")
    if isinstance(error, UnicodeError):
        return Rejection(key, INVALID_UTF8, row_hash(payload), type(error).__name__)
    return Rejection(key, UNEXPECTED_ERROR, row_hash(payload), type(error).__name__)


def record(conn, source: str, run_id: str, rejections: list[Rejection]) -> None:
    if not rejections:
        return
    with conn.cursor() as cursor:
        cursor.executemany(
            """
            insert into raw.quarantine as q (source, source_key, reason_code, row_hash, detail,
                run_id, last_run_id)
            values (%s, %s, %s, %s, %s, %s, %s)
            on conflict (source, source_key, row_hash) do update set
                reason_code = excluded.reason_code, detail = excluded.detail,
                last_run_id = excluded.last_run_id, last_seen_at = now()
            """,
            [
                (source, r.source_key, r.reason_code, r.row_hash, r.detail[:500], run_id, run_id)
                for r in rejections
            ],
        )
