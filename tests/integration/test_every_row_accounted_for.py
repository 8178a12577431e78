"""Every kind of bad input is quarantined with a reason; every row read is accounted for."""

import json
import os
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from devtools.sample_data.landing_generator import (
    LandingConfig,
    bad_metric_lines,
    write_landing_files,
)
from ingestion.all_sources import load_all_sources
from ingestion.core.connections import connect
from tests.conftest import SAMPLE_END

COLLECTOR_BAD = {
    "unknown_enum": "update telemetry_events set decision = 'MAYBE' where id = %s",
    "negative_value": "update telemetry_events set latency_ms = -5 where id = %s",
    "future_timestamp": "update telemetry_events set created_at = now() + interval '3 days' "
    "where id = %s",
}


def _plant_bad_input(urls, landing: Path) -> dict[str, set[str]]:
    """One of each bad input per source; returns the reasons each source must report."""
    with connect(urls.collector) as conn:
        ids = [
            r[0]
            for r in conn.execute(
                "select id from telemetry_events order by id desc limit 10"
            ).fetchall()
        ]
        for statement, source_id in zip(COLLECTOR_BAD.values(), ids, strict=False):
            conn.execute(statement, (source_id,))
        conn.execute("update telemetry_events set prompt_tokens = -9 where id = %s", (ids[5],))
        sessions = [
            r[0]
            for r in conn.execute(
                "select session_id from session_transcripts order by id limit 3"
            ).fetchall()
        ]
        # A double-encoded transcript whose inner JSON is cut off.
        conn.execute(
            "update session_transcripts set transcript_data = to_jsonb(%s::text), "
            "updated_at = now() where session_id = %s",
            ('[{"role": "user", "content": "trunc', sessions[0]),
        )
        # A message with an unknown role and one over the size cap (MAX_MESSAGE_CHARS below).
        conn.execute(
            "update session_transcripts set transcript_data = %s::jsonb, updated_at = now() "
            "where session_id = %s",
            (
                json.dumps(
                    [
                        {"role": "user", "content": "hi", "index": 0},
                        {"role": "wizard", "content": "zap", "index": 1},
                        {"role": "assistant", "content": "x" * 5000, "index": 2},
                        {"role": "assistant", "content": "ok", "index": 3},
                    ]
                ),
                sessions[1],
            ),
        )

    write_landing_files(
        landing,
        LandingConfig(
            seed=3,
            batch_files=3,
            metric_files=2,
            lines_per_metric_file=50,
            bad_share=0,
            end=SAMPLE_END,
        ),
    )
    bad = landing / "bad"
    bad.mkdir()
    now = datetime.now(UTC)
    lines = [line for _, line in bad_metric_lines(random.Random(5), now - timedelta(hours=1), now)]
    (bad / "every-kind.ndjson").write_bytes(b"\n".join(lines) + b"\n")
    (bad / "truncated.json").write_text('{"events": [{"hostId": "laptop"')
    (bad / "missing-keys.json").write_text(
        json.dumps(
            {
                "events": [
                    {"hostId": "laptop", "sessionId": "s", "eventType": "commit"},
                ]
            }
        )
    )
    return {
        "collector.telemetry_events": {"unknown_enum", "negative_value", "future_timestamp"},
        "collector.session_transcripts": {"malformed_json"},
        "collector.session_transcripts.messages": {"unknown_enum", "oversize"},
        "landing.metric_events": {
            "malformed_json",
            "missing_required_key",
            "unknown_enum",
            "negative_value",
            "unparseable_timestamp",
            "future_timestamp",
            "nul_byte",
            "invalid_utf8",
            "oversize",
        },
        "landing.collector_batches": {"malformed_json", "missing_required_key"},
    }


def test_every_kind_of_bad_input_is_quarantined_and_counted(small_collector, monkeypatch):
    landing = Path(os.environ["ATW_LANDING_DIR"])
    expected = _plant_bad_input(small_collector, landing)
    monkeypatch.setenv("ATW_MAX_MESSAGE_CHARS", "4000")

    counts = load_all_sources(small_collector, "bad-input-run")
    assert all(c.balanced for c in counts)

    with connect(small_collector.warehouse) as conn:
        reasons = {}
        for source, reason in conn.execute(
            "select distinct source, reason_code from raw.quarantine"
        ).fetchall():
            reasons.setdefault(source, set()).add(reason)
        assert reasons == expected
        # Every row read is loaded, quarantined or skipped; the table refuses anything else.
        unbalanced = conn.execute(
            "select count(*) from raw.load_log where rows_read <> rows_loaded "
            "+ rows_quarantined + rows_skipped_duplicate"
        ).fetchone()[0]
        assert unbalanced == 0
        by_source = {c.source: c for c in counts}
        quarantined = dict(
            conn.execute("select source, count(*) from raw.quarantine group by source").fetchall()
        )
        for source, n in quarantined.items():
            assert by_source[source].rows_quarantined == n
        # Collector: rows read = rows in raw + rows quarantined.
        in_raw = conn.execute("select count(*) from raw.collector_events").fetchone()[0]
        detail = " ".join(
            r[0] or "" for r in conn.execute("select detail from raw.quarantine").fetchall()
        )
    with connect(small_collector.collector) as conn:
        in_source = conn.execute("select count(*) from telemetry_events").fetchone()[0]
    assert in_raw + quarantined["collector.telemetry_events"] == in_source
    # Quarantine names fields and reasons, never payloads.
    assert "trunc" not in detail and "zap" not in detail and "E_" not in detail

    again = load_all_sources(small_collector, "second-run")
    assert all(c.balanced for c in again)
    assert sum(c.rows_loaded for c in again) == 0
