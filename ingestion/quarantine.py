"""`raw.quarantine`: rows that could not be loaded, with reason, key and hash; never the payload."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

# Reason codes (documented in the README).
MALFORMED_JSON = "malformed_json"
MISSING_REQUIRED_KEY = "missing_required_key"
UNKNOWN_ENUM = "unknown_enum"
NEGATIVE_VALUE = "negative_value"
BAD_TIMESTAMP = "unparseable_timestamp"
FUTURE_TIMESTAMP = "future_timestamp"
NUL_BYTE = "nul_byte"
INVALID_UTF8 = "invalid_utf8"
OVERSIZE = "oversize"
WRONG_TYPE = "wrong_type"


@dataclass(frozen=True)
class Rejection:
    source_key: str
    reason_code: str
    row_hash: str
    detail: str = ""


class RowRejected(ValueError):
    """Raised by a parser for a row that must go to quarantine."""

    def __init__(self, reason_code: str, detail: str):
        super().__init__(f"{reason_code}: {detail}")
        self.reason_code = reason_code
        self.detail = detail


def row_hash(payload: bytes | str) -> str:
    data = payload.encode("utf-8", "surrogatepass") if isinstance(payload, str) else payload
    return hashlib.sha256(data).hexdigest()


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
                last_run_id = excluded.last_run_id, last_seen_at = now()
            """,
            [(source, r.source_key, r.reason_code, r.row_hash, r.detail[:500], run_id, run_id)
             for r in rejections],
        )
