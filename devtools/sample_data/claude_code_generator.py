"""Claude-Code-style session logs for the demo and benchmarks.

Written like Claude Code 1.x/2.x writes them: one line per content block of a response (the
blocks share `message.id` and `requestId`; only the last carries the final `output_tokens`),
tool_use blocks answered by tool_result lines, sidechain (subagent) traffic inline, a leading
summary line in some files, and resumed sessions whose file repeats the earlier messages.
"""

from __future__ import annotations

import json
import math
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from devtools.sample_data import transcript_text

PROJECTS = (
    "-home-tim-src-agent-framework",
    "-Users-anna-code-payments-api",
    "-home-raj-work-data-pipeline",
)
MODELS = (
    ("claude-sonnet-4-20250514", 0.6),
    ("claude-sonnet-4-5-20250929", 0.3),
    ("claude-opus-4-1-20250805", 0.1),
)
TOOLS = ("Bash", "Read", "Edit", "Grep", "Glob", "Write", "TodoWrite")
SUBAGENT_TYPES = ("general-purpose", "code-reviewer", "test-runner")


@dataclass(frozen=True)
class ClaudeCodeConfig:
    seed: int = 42
    sessions: int = 12
    days: int = 35
    end: datetime | None = None
    resumed_share: float = 0.2


def _id(rng: random.Random, prefix: str) -> str:
    return prefix + uuid.UUID(int=rng.getrandbits(128)).hex[:24]


class _Session:
    def __init__(self, rng, project: str, session_id: str, start: datetime, version: str):
        self.rng, self.project, self.session_id = rng, project, session_id
        self.at, self.version = start, version
        self.parent: str | None = None
        self.lines: list[dict] = []
        self.context = rng.randint(8_000, 20_000)

    def _line(self, kind: str, message: dict, sidechain: bool = False, **extra) -> dict:
        self.at += timedelta(seconds=self.rng.uniform(0.5, 20))
        line_uuid = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        line = {
            "parentUuid": self.parent,
            "isSidechain": sidechain,
            "userType": "external",
            "cwd": "/" + self.project.strip("-").replace("-", "/"),
            "sessionId": self.session_id,
            "version": self.version,
            "gitBranch": "main",
            "type": kind,
            "message": message,
            "uuid": line_uuid,
            "timestamp": self.at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            **extra,
        }
        self.parent = line_uuid
        self.lines.append(line)
        return line

    def user(self, text: str) -> None:
        self._line("user", {"role": "user", "content": text})

    def task(self, model: str, subagent_type: str) -> None:
        """The main agent calls the Task tool; the subagent's traffic follows as sidechain."""
        rng = self.rng
        message = {
            "id": _id(rng, "msg_"),
            "type": "message",
            "role": "assistant",
            "model": model,
            "stop_reason": "tool_use",
            "stop_sequence": None,
            "content": [
                {
                    "type": "tool_use",
                    "id": _id(rng, "toolu_"),
                    "name": "Task",
                    "input": {
                        "description": "Review the change",
                        "prompt": "Review the diff for bugs.",
                        "subagent_type": subagent_type,
                    },
                }
            ],
            "usage": {
                "input_tokens": 4,
                "cache_read_input_tokens": self.context,
                "cache_creation_input_tokens": 120,
                "output_tokens": 85,
            },
        }
        self._line("assistant", message, requestId=_id(rng, "req_"))

    def response(self, model: str, sidechain: bool = False, agent_id: str | None = None) -> None:
        rng = self.rng
        message_id, request_id = _id(rng, "msg_"), _id(rng, "req_")
        write = rng.randint(200, 4_000)
        one_hour = write if rng.random() < 0.15 else 0
        usage = {
            "input_tokens": rng.randint(3, 40),
            "cache_read_input_tokens": self.context,
            "cache_creation_input_tokens": write,
            "cache_creation": {
                "ephemeral_5m_input_tokens": write - one_hour,
                "ephemeral_1h_input_tokens": one_hour,
            },
            "output_tokens": 1,
            "service_tier": "standard",
        }
        self.context += write
        blocks = [{"type": "text", "text": transcript_text.assistant_message(rng)}]
        tool_use = None
        if rng.random() < 0.7:
            tool_use = {
                "type": "tool_use",
                "id": _id(rng, "toolu_"),
                "name": rng.choice(TOOLS),
                "input": {"command": "pytest -q", "description": "run the tests"},
            }
            blocks.append(tool_use)
        final_output = int(rng.lognormvariate(math.log(350), 0.8))
        extra = {"requestId": request_id}
        if agent_id:
            extra["agentId"] = agent_id
        for index, block in enumerate(blocks):
            last = index == len(blocks) - 1
            message = {
                "id": message_id,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [block],
                "stop_reason": "tool_use" if last and tool_use else ("end_turn" if last else None),
                "stop_sequence": None,
                "usage": {**usage, "output_tokens": final_output if last else rng.randint(1, 8)},
            }
            self._line("assistant", message, sidechain, **extra)
        if tool_use:
            failed = rng.random() < 0.08
            self._line(
                "user",
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": tool_use["id"],
                            "is_error": failed,
                            "content": transcript_text.tool_result_message(rng),
                        }
                    ],
                },
                sidechain,
                **({"agentId": agent_id} if agent_id else {}),
            )


def write_claude_projects(directory: Path, config: ClaudeCodeConfig) -> dict[str, int]:
    rng = random.Random(config.seed)
    end = (config.end or datetime.now(UTC)).astimezone(UTC)
    written = {"files": 0, "lines": 0, "responses": 0}
    sessions: list[_Session] = []
    for _ in range(config.sessions):
        project = rng.choice(PROJECTS)
        start = end - timedelta(days=rng.uniform(0.2, config.days))
        session = _Session(
            rng,
            project,
            str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            start,
            rng.choice(("1.0.98", "1.0.108", "2.0.14")),
        )
        model = rng.choices([m for m, _ in MODELS], weights=[w for _, w in MODELS])[0]
        for _ in range(rng.randint(1, 6)):
            session.user(transcript_text.user_message(rng))
            for _ in range(rng.randint(1, 8)):
                session.response(model)
                written["responses"] += 1
            if rng.random() < 0.3:  # a Task tool runs a subagent inline
                session.task(model, rng.choice(SUBAGENT_TYPES))
                written["responses"] += 1
                agent_id = _id(rng, "agent_")[:14]
                for _ in range(rng.randint(1, 4)):
                    session.response(model, sidechain=True, agent_id=agent_id)
                    written["responses"] += 1
        sessions.append(session)

    for session in sessions:
        lines = session.lines
        if rng.random() < 0.3:
            lines = [
                {
                    "type": "summary",
                    "summary": "Fix the flaky retry test",
                    "leafUuid": lines[-1]["uuid"],
                },
                *lines,
            ]
        _write(directory / session.project / f"{session.session_id}.jsonl", lines, written)
        if rng.random() < config.resumed_share:  # resumed: a new file repeats the history
            resumed_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            repeated = [dict(line, sessionId=resumed_id) for line in session.lines]
            _write(directory / session.project / f"{resumed_id}.jsonl", repeated, written)
    return written


def _write(path: Path, lines: list[dict], written: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines))
    written["files"] += 1
    written["lines"] += len(lines)
