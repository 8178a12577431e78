"""Fill a collector database with weeks of seeded, realistic telemetry, quirks included.

Reproduced quirks of the real collector:
- jsonb written by clients before 2.0 is a JSON *string* holding the JSON (double-encoded);
- `created_at` is the client's clock (each host has its own skew);
- retried batches insert the same events again under new ids;
- the cost worker fills `cost` and rewrites token columns after insert (see `cost_worker`).

Rows are streamed with COPY one simulated day at a time, so memory stays flat in the size.
"""

from __future__ import annotations

import json
import math
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources

import psycopg
from psycopg import sql

from devtools.sample_data import catalog, cost_worker, transcript_text

EVENT_COLUMNS = (
    "host_id",
    "session_id",
    "event_type",
    "agent_name",
    "hook_name",
    "mode",
    "execution_type",
    "decision",
    "decision_reason",
    "tool_name",
    "working_dir",
    "latency_ms",
    "model_tier",
    "model_name",
    "success",
    "error_count",
    "extra_data",
    "created_at",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cached_tokens",
    "reasoning_tokens",
    "cost",
    "client_version",
    "generation_id",
    "cost_fetch_retries",
)
TRANSCRIPT_COLUMNS = (
    "host_id",
    "session_id",
    "transcript_data",
    "message_counts",
    "created_at",
    "updated_at",
)


@dataclass(frozen=True)
class GeneratorConfig:
    seed: int = 42
    # Approximate number of distinct events (retried duplicates come on top).
    events: int = 20_000
    days: int = 35
    end: datetime | None = None
    transcript_share: float = 0.6
    duplicate_batch_rate: float = 0.015
    # Rows newer than this before `end` still wait for the cost worker.
    cost_worker_lag: timedelta = timedelta(minutes=20)
    # Text to plant in a few transcript messages and decision reasons (redaction tests).
    planted_secrets: tuple[str, ...] = ()


@dataclass
class GenerationReport:
    events: int = 0
    duplicate_events: int = 0
    sessions: int = 0
    transcripts: int = 0
    transcript_messages: int = 0
    double_encoded_rows: int = 0
    first_day: str = ""
    last_day: str = ""
    hosts: list[str] = field(default_factory=list)


def create_collector_schema(conn: psycopg.Connection) -> None:
    ddl = resources.files("ingestion.collector").joinpath("sql/collector_schema.sql").read_text()
    conn.execute(ddl)


def _weighted(rng: random.Random, items, weights):
    return rng.choices(items, weights=weights, k=1)[0]


# Share of a working day's sessions that start in each local hour.
_HOUR_WEIGHTS = (
    0.2,
    0.1,
    0.05,
    0.05,
    0.05,
    0.1,
    0.3,
    0.8,
    2.0,
    3.5,
    4.0,
    3.8,
    2.2,
    3.0,
    3.8,
    3.6,
    3.2,
    2.5,
    1.5,
    1.0,
    1.2,
    1.0,
    0.6,
    0.4,
)


def _session_sizes(rng: random.Random, target: int) -> Iterator[int]:
    produced = 0
    while produced < target:
        size = max(1, min(400, int(rng.lognormvariate(2.7, 0.9))))
        size = min(size, target - produced)
        produced += size
        yield size


def _jsonb_text(value, double_encode: bool) -> str:
    text = json.dumps(value, separators=(",", ":"))
    return json.dumps(text) if double_encode else text


class _SessionWriter:
    """Turns one simulated session into event rows (with send times) and a transcript."""

    def __init__(self, rng: random.Random, config: GeneratorConfig):
        self.rng = rng
        self.config = config
        self.agent_weights = [a.weight for a in catalog.AGENTS]
        self.tool_names = [t for t, _ in catalog.TOOLS]
        self.tool_weights = [w for _, w in catalog.TOOLS]

    def events(self, host: catalog.Host, session_id: str, start: datetime, size: int):
        rng = self.rng
        working_dir = rng.choice(host.repos)
        error_prone = rng.random() < 0.08  # a bad afternoon: flaky network, rate limits
        at = start
        rows: list[tuple[datetime, tuple]] = []
        for _ in range(size):
            gap = rng.expovariate(1 / 35.0)
            if rng.random() < 0.04:
                gap += rng.uniform(300, 1500)  # the user went for coffee
            at = at + timedelta(seconds=gap)
            event_session = (
                str(uuid.UUID(int=rng.getrandbits(128), version=4))
                if host.per_process_session_ids and rows
                else session_id
            )
            rows.append((at, self._event(host, event_session, working_dir, at, error_prone)))
        return rows

    def _event(self, host, session_id, working_dir, at, error_prone):
        rng = self.rng
        agent = _weighted(rng, catalog.AGENTS, self.agent_weights)
        hook = rng.choice(agent.hooks)
        tool = (
            _weighted(rng, self.tool_names, self.tool_weights)
            if hook in ("PreToolUse", "PostToolUse")
            else ""
        )
        is_llm = rng.random() < agent.llm_share
        error_rate = 0.25 if error_prone else 0.03
        roll = rng.random()
        if roll < error_rate:
            event_type, decision = "error", "ERROR"
        elif roll < error_rate + 0.02:
            event_type, decision = "escalation", "CONFIRM"
        elif agent.name == "commit-message":
            event_type, decision = "commit", "SUCCESS"
        elif hook in ("PreToolUse", "UserPromptSubmit"):
            event_type = "hook_decision"
            decision = _weighted(
                rng, ("APPROVE", "DENY", "CONFIRM", "CONTINUE"), (0.82, 0.07, 0.04, 0.07)
            )
        else:
            event_type = "agent_execution"
            decision = "ERROR" if rng.random() < error_rate else "SUCCESS"

        if decision == "ERROR":
            reason = rng.choice(catalog.ERROR_REASONS)
        elif decision == "DENY":
            reason = rng.choice(catalog.DENY_REASONS)
        elif decision == "CONFIRM":
            reason = rng.choice(catalog.CONFIRM_REASONS)
        elif rng.random() < 0.6:
            reason = rng.choice(catalog.APPROVE_REASONS)
        else:
            reason = None
        success = decision != "ERROR" and rng.random() > 0.01
        error_count = rng.randint(1, 4) if decision == "ERROR" and is_llm else 0

        tier = model = generation_id = None
        input_chars = rng.randint(10, 4000)
        prompt = completion = total = cached = reasoning = None
        if is_llm:
            tier = rng.choice(agent.tiers)
            model = rng.choice(catalog.MODELS[tier])
            latency = rng.lognormvariate(math.log(catalog.TIER_LATENCY_MS[tier]), 0.45)
            prompt = int(rng.lognormvariate(math.log(catalog.TIER_PROMPT_TOKENS[tier]), 0.5))
            completion = int(rng.lognormvariate(math.log(140 if tier == "haiku" else 420), 0.6))
            cached = int(prompt * rng.uniform(0.3, 0.8)) if rng.random() < 0.45 else 0
            reasoning = int(completion * 0.3) if tier == "opus" and rng.random() < 0.5 else 0
            total = prompt + completion
            # What the agent sent: about four characters a token, as cl100k counts prose.
            input_chars = int(prompt * rng.uniform(3.6, 4.4))
            generation_id = "gen-" + uuid.UUID(int=rng.getrandbits(128)).hex
            if not host.reports_token_usage:
                prompt = completion = total = cached = reasoning = generation_id = None
        else:
            latency = rng.lognormvariate(math.log(14.0), 0.6)
        if rng.random() < 0.004:
            latency *= rng.uniform(8, 20)  # a stalled provider or a cold cache
        latency_ms = max(1, int(latency)) + error_count * 1000

        extra = {
            "permissionMode": rng.choice(("default", "acceptEdits", "plan")),
            "inputChars": input_chars,
        }
        if error_count:
            extra["retryAttempts"] = error_count
        created_at = at + timedelta(seconds=host.clock_skew_seconds + rng.uniform(-1.5, 1.5))
        return (
            host.host_id,
            session_id,
            event_type,
            agent.name,
            hook,
            "lazy" if rng.random() < 0.3 else "direct",
            "llm" if is_llm else "typescript",
            decision,
            reason,
            tool,
            working_dir,
            latency_ms,
            tier,
            model,
            success,
            error_count,
            _jsonb_text(extra, host.double_encodes_json),
            created_at,
            prompt,
            completion,
            total,
            cached,
            reasoning,
            None,
            host.client_version,
            generation_id,
            0,
        )

    def batches(self, events):
        """Flush events the way the client does: in small batches, some sent twice."""
        rng = self.rng
        batches: list[tuple[datetime, list[tuple], bool]] = []
        i = 0
        while i < len(events):
            size = rng.randint(1, 12)
            chunk = events[i : i + size]
            i += size
            sent = chunk[-1][0] + timedelta(seconds=rng.uniform(0.2, 4.0))
            rows = [row for _, row in chunk]
            batches.append((sent, rows, False))
            if rng.random() < self.config.duplicate_batch_rate:
                retry_at = sent + timedelta(seconds=rng.uniform(1, 30))
                batches.append((retry_at, rows, True))
        return batches


def generate_collector(conn: psycopg.Connection, config: GeneratorConfig) -> GenerationReport:
    """Create the collector schema (if missing) and append a generated history to it."""
    rng = random.Random(config.seed)
    end = (config.end or datetime.now(UTC)).astimezone(UTC)
    first_day = (end - timedelta(days=config.days)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    create_collector_schema(conn)
    writer = _SessionWriter(rng, config)
    host_weights = [h.weight for h in catalog.HOSTS]
    report = GenerationReport(
        hosts=[h.host_id for h in catalog.HOSTS], first_day=first_day.date().isoformat()
    )

    # Plan sessions first (cheap), then simulate them day by day.
    day_weights = []
    for d in range(config.days + 1):
        day = first_day + timedelta(days=d)
        day_weights.append(0.3 if day.weekday() >= 5 else 1.0)
    plans: dict[int, list[tuple[catalog.Host, int, datetime | None]]] = {}
    for size in _session_sizes(rng, config.events):
        d = _weighted(rng, range(len(day_weights)), day_weights)
        plans.setdefault(d, []).append((_weighted(rng, catalog.HOSTS, host_weights), size, None))
    # Someone is always at work when the history ends: its newest rows still wait for the cost
    # worker, and a load at `end` finds sessions in flight.
    last = (end - first_day).days
    plans.setdefault(last, []).append((catalog.HOSTS[0], 40, end - timedelta(minutes=40)))

    for d in sorted(plans):
        day = first_day + timedelta(days=d)
        day_batches = []
        transcripts = []
        for host, size, fixed_start in plans[d]:
            local_hour = _weighted(rng, range(24), _HOUR_WEIGHTS)
            start = fixed_start or day + timedelta(
                hours=(local_hour - host.utc_offset_hours) % 24, seconds=rng.uniform(0, 3600)
            )
            if start >= end:
                continue
            session_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            events = [
                (t, row) for t, row in writer.events(host, session_id, start, size) if t < end
            ]
            if not events:
                continue
            report.sessions += 1
            day_batches.extend(writer.batches(events))
            if rng.random() < config.transcript_share:
                transcripts.append(_transcript_row(rng, host, session_id, events, end))
        if config.planted_secrets:
            _plant(rng, config.planted_secrets, day_batches, transcripts)
        day_batches.sort(key=lambda b: b[0])
        _copy_events(conn, day_batches, report)
        _copy_transcripts(conn, transcripts, report)
        report.last_day = day.date().isoformat()

    cost_worker.settle_history(conn, now=end - config.cost_worker_lag)
    conn.execute("analyze telemetry_events")
    conn.execute("analyze session_transcripts")
    return report


def _plant(rng, secrets, batches, transcripts) -> None:
    """Put each secret into one decision reason and one transcript message of the day."""
    reason = EVENT_COLUMNS.index("decision_reason")
    for secret in secrets:
        if batches:
            rows = rng.choice(batches)[1]
            position = rng.randrange(len(rows))
            row = list(rows[position])
            row[reason] = f"{row[reason] or 'Denied'}: found {secret} in the command"
            rows[position] = tuple(row)
        if transcripts:
            i = rng.randrange(len(transcripts))
            host_id, session_id, data, counts, created, updated, n = transcripts[i]
            messages = json.loads(json.loads(data)) if data.startswith('"') else json.loads(data)
            messages[rng.randrange(len(messages))]["content"] += f"\n\nexport TOKEN={secret}\n"
            double = data.startswith('"')
            transcripts[i] = (
                host_id,
                session_id,
                _jsonb_text(messages, double),
                counts,
                created,
                updated,
                n,
            )


def _transcript_row(rng, host, session_id, events, end):
    turns = 1 + len(events) // 15
    messages = transcript_text.transcript(rng, turns)
    created = events[0][0] + timedelta(seconds=rng.uniform(1, 10))
    updated = min(end, max(created, events[-1][0] + timedelta(seconds=rng.uniform(1, 20))))
    return (
        host.host_id,
        session_id,
        _jsonb_text(messages, host.double_encodes_json),
        _jsonb_text(transcript_text.message_counts(messages), host.double_encodes_json),
        created,
        updated,
        len(messages),
    )


def _copy_events(conn, batches, report: GenerationReport) -> None:
    columns = sql.SQL(", ").join(map(sql.Identifier, EVENT_COLUMNS))
    with conn.cursor().copy(
        sql.SQL("copy telemetry_events ({}) from stdin").format(columns)
    ) as copy:
        for _, rows, is_retry in batches:
            for row in rows:
                copy.write_row(row)
                report.events += 1
                report.duplicate_events += is_retry
                report.double_encoded_rows += row[16].startswith('"')


def _copy_transcripts(conn, rows, report: GenerationReport) -> None:
    columns = sql.SQL(", ").join(map(sql.Identifier, TRANSCRIPT_COLUMNS))
    with conn.cursor().copy(
        sql.SQL("copy session_transcripts ({}) from stdin").format(columns)
    ) as copy:
        for row in rows:
            copy.write_row(row[:6])
            report.transcripts += 1
            report.transcript_messages += row[6]


def upsert_transcript(
    conn, host_id: str, session_id: str, messages: list[dict], double_encode: bool = True
) -> None:
    """The collector's own upsert: the whole array is replaced and `updated_at` moves."""
    conn.execute(
        """
        insert into session_transcripts (session_id, host_id, transcript_data, message_counts)
        values (%s, %s, %s::jsonb, %s::jsonb)
        on conflict (session_id) do update set
            transcript_data = excluded.transcript_data,
            message_counts = excluded.message_counts,
            updated_at = now()
        """,
        (
            session_id,
            host_id,
            _jsonb_text(messages, double_encode),
            _jsonb_text(transcript_text.message_counts(messages), double_encode),
        ),
    )
