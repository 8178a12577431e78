"""File drops for the landing directory: collector batch payloads and metric/value NDJSON.

Metric events come from a second, SDK-instrumented agent fleet (seed 001's format): support and
retrieval agents of several tenants, with tool calls, token usage, retries and error classes.
"""

from __future__ import annotations

import json
import math
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from devtools.sample_data import catalog

SDK_AGENTS = (
    ("billing-assistant", "tenant_acme", ("get_user_invoice", "refund_payment", "search_kb")),
    ("support-triage", "tenant_acme", ("search_kb", "create_ticket", "classify_intent")),
    ("research-rag", "tenant_globex", ("vector_search", "fetch_document", "rerank")),
    ("sales-copilot", "tenant_initech", ("crm_lookup", "draft_email", "search_kb")),
)
# The last is a team's own fine-tune behind its gateway: no catalogue prices it, so the sample
# shows unpriced calls and the recommendation to add an override for them.
SDK_MODELS = (
    "anthropic/claude-sonnet-4-5@2025-09",
    "anthropic/claude-haiku-4-5@2025-10",
    "openai/gpt-4.1-mini@2025-04",
    "acme/support-tuned-7b@2025-08",
)
ERRORS = (
    ("transient", "E_UPSTREAM_TIMEOUT"),
    ("quota", "E_QUOTA_EXCEEDED"),
    ("validation", "E_BAD_TOOL_INPUT"),
    ("upstream", "E_PROVIDER_5XX"),
    ("policy", "E_POLICY_BLOCKED"),
)


@dataclass(frozen=True)
class LandingConfig:
    seed: int = 42
    batch_files: int = 20
    metric_files: int = 10
    lines_per_metric_file: int = 400
    days: int = 35
    end: datetime | None = None
    # Share of records that are broken the ways real drops are (truncated lines, bad enums...).
    bad_share: float = 0.004


def _batch_event(rng: random.Random, at: datetime, host: catalog.Host, session_id: str) -> dict:
    agent = rng.choice(catalog.AGENTS)
    is_llm = rng.random() < agent.llm_share
    tier = rng.choice(agent.tiers) if is_llm else None
    event = {
        "hostId": host.host_id,
        "sessionId": session_id,
        "eventType": rng.choice(("hook_decision", "agent_execution")),
        "agentName": agent.name,
        "hookName": rng.choice(agent.hooks),
        "mode": "direct",
        "executionType": "llm" if is_llm else "typescript",
        "timestamp": at.isoformat().replace("+00:00", "Z"),
        "decision": rng.choice(("APPROVE", "APPROVED", "DENY", "SUCCESS")),
        "decisionReason": rng.choice(catalog.APPROVE_REASONS),
        "toolName": rng.choice([t for t, _ in catalog.TOOLS]),
        "workingDir": rng.choice(host.repos),
        "latencyMs": int(rng.lognormvariate(math.log(900 if is_llm else 15), 0.5)),
        "success": True,
        "errorCount": 0,
        "clientVersion": host.client_version,
    }
    if tier:
        prompt = int(rng.lognormvariate(math.log(catalog.TIER_PROMPT_TOKENS[tier]), 0.5))
        completion = int(rng.lognormvariate(math.log(150), 0.6))
        event.update(
            modelTier=tier,
            modelName=rng.choice(catalog.MODELS[tier]),
            promptTokens=prompt,
            completionTokens=completion,
            totalTokens=prompt + completion,
        )
    return event


def _metric_line(rng: random.Random, at: datetime) -> dict:
    agent, tenant, tools = rng.choice(SDK_AGENTS)
    failed = rng.random() < 0.07
    calls = [
        {
            "name": rng.choice(tools),
            "status": "error" if failed and i == 0 else "success",
            "latencyMs": int(rng.lognormvariate(math.log(80), 0.7)),
        }
        for i in range(rng.randint(0, 4))
    ]
    value = {
        "agentId": agent,
        "tenantId": tenant,
        "eventId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "traceId": f"tr-{rng.getrandbits(48):012x}",
        "spanId": f"sp-{rng.getrandbits(32):08x}",
        "sessionId": f"sess-{agent}-{at:%Y%m%d}-{rng.randint(0, 40)}",
        "version": "2.3.1",
        "modelId": rng.choice(SDK_MODELS),
        "toolCalls": calls,
        "tokenUsage": {
            "promptTokens": int(rng.lognormvariate(math.log(650), 0.5)),
            "completionTokens": int(rng.lognormvariate(math.log(300), 0.6)),
        },
        "latencyMs": int(rng.lognormvariate(math.log(1300), 0.5)),
        "retries": rng.choice((0, 0, 0, 0, 1, 2, 3)) if failed else 0,
    }
    if failed:
        value["errorClass"], value["errorCode"] = rng.choice(ERRORS)
    return {
        "metric": "task_error" if failed else "task_success",
        "timestamp": int(at.timestamp() * 1000),
        "value": value,
    }


# One of each way a drop goes wrong; `kind` names the reason the loader must give.
def bad_metric_lines(rng: random.Random, at: datetime, end: datetime) -> list[tuple[str, bytes]]:
    """`at` is a plausible event time; `end` is "now" for the loader (the future starts there)."""
    good = _metric_line(rng, at)

    def variant(**changes) -> bytes:
        line = json.loads(json.dumps(good))
        line["value"]["eventId"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        for path, value in changes.items():
            target = line
            *parents, leaf = path.split("__")
            for parent in parents:
                target = target[parent]
            if value is _DROP:
                target.pop(leaf, None)
            else:
                target[leaf] = value
        return json.dumps(line).encode()

    return [
        ("malformed_json", json.dumps(good).encode()[:-7]),
        ("missing_required_key", variant(value__eventId=_DROP)),
        ("unknown_enum", variant(value__errorClass="cosmic_rays")),
        ("negative_value", variant(value__latencyMs=-40)),
        ("unparseable_timestamp", variant(timestamp="yesterday-ish")),
        ("future_timestamp", variant(timestamp=int((end + timedelta(days=3)).timestamp() * 1000))),
        ("nul_byte", variant(value__errorCode="E_\u0000NUL")),
        ("invalid_utf8", variant(value__errorCode="E_BAD").replace(b"E_BAD", b"E_\xff\xfe")),
        ("oversize", variant(value__errorCode="X" * 1_100_000)),
    ]


_DROP = object()


def write_landing_files(directory: Path, config: LandingConfig) -> dict[str, int]:
    rng = random.Random(config.seed)
    end = (config.end or datetime.now(UTC)).astimezone(UTC)
    start = end - timedelta(days=config.days)
    directory.mkdir(parents=True, exist_ok=True)
    written = {
        "batch_files": 0,
        "batch_events": 0,
        "metric_files": 0,
        "metric_lines": 0,
        "bad_records": 0,
    }

    def random_time() -> datetime:
        return start + timedelta(seconds=rng.uniform(0, (end - start).total_seconds()))

    for n in range(config.batch_files):
        host = rng.choice(catalog.HOSTS)
        session_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        at = random_time()
        events = []
        for _ in range(rng.randint(5, 100)):  # the collector's batch limit is 100
            at = min(end, at + timedelta(seconds=rng.expovariate(1 / 30)))
            events.append(_batch_event(rng, at, host, session_id))
        if rng.random() < config.bad_share * len(events):
            events[rng.randrange(len(events))]["latencyMs"] = -1
            written["bad_records"] += 1
        path = directory / "collector-batches" / f"{at:%Y%m%d}-{host.host_id}-{n:04d}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"events": events}, indent=1))
        written["batch_files"] += 1
        written["batch_events"] += len(events)

    for n in range(config.metric_files):
        lines = []
        for _ in range(config.lines_per_metric_file):
            if rng.random() < config.bad_share:
                # Oversize lines are left to the tests: a megabyte each bloats the demo.
                kinds = [b for b in bad_metric_lines(rng, random_time(), end) if b[0] != "oversize"]
                lines.append(rng.choice(kinds)[1])
                written["bad_records"] += 1
            else:
                lines.append(json.dumps(_metric_line(rng, random_time())).encode())
        path = directory / "sdk-metrics" / f"metrics-{n:04d}.ndjson"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\n".join(lines) + b"\n")
        written["metric_files"] += 1
        written["metric_lines"] += len(lines)
    return written
