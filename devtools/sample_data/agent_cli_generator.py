"""Seeded sample logs of the agent CLIs the warehouse reads besides Claude Code: "a team of 20
developers using three agents" for the demo and the benchmarks.

Every developer uses Claude Code (written by `claude_code_generator`) and two of the four CLIs
below, in a fixed rotation so that each of the four has several developers. Each developer's
logs are written exactly where and how the CLI itself stores them, under a home of their own
(`<out>/dev-01/...`), so the warehouse reads "several folders, one per machine or per user" and
ccusage 20.0.24 can be pointed at any one of them. The shapes are copied from the real logs in
`../shared/fixtures/agent-logs/` (research notes: `../research/issue18.md` §2-5):

- Codex CLI, `.codex/sessions/YYYY/MM/DD/rollout-<local time>-<uuid v7>.jsonl`: compact JSON
  lines (ccusage only reads lines whose bytes hold `"type":"event_msg"` written without a
  space). `session_meta` first, then per turn `task_started`, the prompt (`response_item`
  message and `event_msg user_message`), `turn_context` (the model: gpt-5.2-codex,
  gpt-5.3-codex, gpt-5), reasoning, tool calls (`function_call` exec_command / update_plan,
  `custom_tool_call` apply_patch, `web_search_call`) with their outputs, and after each model
  call an `event_msg token_count` whose `info` has the call's `last_token_usage` and the
  session's cumulative `total_token_usage` (input includes the cached part, output includes
  reasoning, total = input + output). As Codex does, the snapshot is written again after the
  tool outputs with the same totals, the first one of a session has `info: null`, long
  sessions are compacted (`compacted` + `event_msg context_compacted`; the totals carry on),
  some rollouts are moved to `.codex/archived_sessions/`, and a few are forks: a rollout whose
  first `session_meta` has `forked_from_id` (a parent in the same set), which replays the
  parent's lines (its token counts too) within the second of the fork, then goes on.
- Gemini CLI, `.gemini/tmp/<sha256 of the project folder>/chats/session-<time>-<id[:8]>.json`:
  one pretty-printed JSON document per session (`sessionId`, `projectHash`, `startTime`,
  `lastUpdated`, `messages[]`), each `gemini` message with `thoughts[]`, `model`
  (gemini-2.5-pro, some gemini-2.5-flash) and `tokens` {input, output, cached, thoughts,
  tool, total} where input includes the cache and total = input + output + thoughts + tool,
  as Gemini CLI records it. The file name's time is UTC (Gemini CLI takes it from
  `toISOString()`, the real set shows it). Beside the chats: `logs.json` (the prompts) and a
  `checkpoint-<tag>.json` (a saved conversation), neither holding usage.
- OpenCode (legacy JSON storage), `.local/share/opencode/storage/`: `project/<id>.json`,
  `session/<projectID>/<sessionID>.json`, `message/<sessionID>/<messageID>.json`,
  `part/<messageID>/<partID>.json`, `session_diff/<sessionID>.json` and `migration`. Ids are
  OpenCode's: a time-ordered hex part (descending for sessions) and 14 random base62
  characters. User messages carry no tokens; assistant messages carry `modelID`/`providerID`
  (claude-sonnet-4-5-20250929 and claude-opus-4-1-20250805 from anthropic, gpt-5 from openai),
  `time.created`/`completed` in epoch ms and `tokens` {input (no cache), output, reasoning,
  cache {read, write}}. `cost` is 0 (a subscription), except for developers billed per token,
  whose OpenCode records the cost. Now and then a call fails: an assistant message with an
  `error` and all-zero tokens.
- GitHub Copilot CLI, `.copilot/session-state/<session uuid>/events.jsonl` (and the session's
  `workspace.yaml`): `session.start`, `user.message`, `assistant.turn_start`,
  `assistant.message` (with `toolRequests`), `tool.execution_start`/`complete`,
  `assistant.turn_end`, and at exit a `session.shutdown` whose `data.modelMetrics` holds per
  model the session's cumulative `usage` {inputTokens (cache included), outputTokens,
  cacheReadTokens, cacheWriteTokens, reasoningTokens} and `requests` {count, cost} (models
  claude-sonnet-4.5, gpt-5.4, claude-opus-4.6-1m). A resumed session (`session.resume`) has
  one shutdown per run, each with the totals so far.

The history covers [end - days, end], in UTC in the logs; sessions start in each developer's
working hours in their own time zone, mostly on working days (`sessions_per_day` per developer
and CLI). Nothing depends on the clock unless `end` is None (the history then ends now). The
text comes from `transcript_text` (only texts that the warehouse's redaction leaves alone);
ids and hashes are random but seeded, and nothing written looks like a secret or an e-mail
address (the tests run the redaction over every file).
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import random
import string
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import cache
from pathlib import Path

from devtools.sample_data import transcript_text
from ingestion.core import redaction

CLAUDE_CODE = "claude_code"
# The CLIs written here, by the name the warehouse gives them (ingestion/agent_cli/sources.py).
CLIS = ("codex", "gemini_cli", "opencode", "copilot_cli")
# Where each CLI keeps its logs below a home: the folder to point the warehouse (and ccusage's
# CODEX_HOME, GEMINI_DATA_DIR, OPENCODE_DATA_DIR, COPILOT_HOME) at.
HOMES = {
    "codex": ".codex",
    "gemini_cli": ".gemini/tmp",
    "opencode": ".local/share/opencode",
    "copilot_cli": ".copilot",
}
# Which two of the four each developer uses besides Claude Code: every pair, in turn.
PAIRS = tuple(itertools.combinations(CLIS, 2))

PROJECTS = (
    "payments-api",
    "agent-framework",
    "data-pipeline",
    "web-dashboard",
    "infra-terraform",
    "mobile-app",
    "search-service",
    "billing-worker",
)
# Hours from UTC (no daylight saving time: a sample, not a calendar).
UTC_OFFSETS = (0.0, 1.0, 2.0, -5.0, -8.0, 5.5, 9.0, -3.0, 10.0)
WEEKEND_SHARE = 0.08  # of a working day's sessions, on Saturdays and Sundays
WORKDAY_HOURS = 9.5
TEXT_POOL = 400  # texts of each kind, drawn from

CODEX_MODELS = (("gpt-5.3-codex", 0.5), ("gpt-5.2-codex", 0.35), ("gpt-5", 0.15))
CODEX_VERSIONS = ("0.98.0", "0.101.0", "0.104.0")
CODEX_ORIGINS = (("codex_cli_rs", "cli"), ("codex_vscode", "vscode"), ("Codex Desktop", "vscode"))
CODEX_CONTEXT_WINDOW = 258_400
CODEX_COUNTS = (
    "input_tokens",
    "cached_input_tokens",
    "output_tokens",
    "reasoning_output_tokens",
    "total_tokens",
)
CODEX_PLAN_STEPS = ("Reproduce the failure", "Fix the handler", "Run the test suite")

GEMINI_PRO, GEMINI_FLASH = "gemini-2.5-pro", "gemini-2.5-flash"
REASONING_SUBJECTS = (
    "Analyzing the Request",
    "Investigating the Failure",
    "Planning the Change",
    "Reviewing the Test Output",
    "Refining the Approach",
    "Verifying the Fix",
)

# (provider, model, weight)
OPENCODE_MODELS = (
    ("anthropic", "claude-sonnet-4-5-20250929", 0.6),
    ("openai", "gpt-5", 0.3),
    ("anthropic", "claude-opus-4-1-20250805", 0.1),
)
# USD per million tokens (input, output, cache read, cache write): what a billed OpenCode records.
OPENCODE_PRICES = {
    "claude-sonnet-4-5-20250929": (3.0, 15.0, 0.30, 3.75),
    "gpt-5": (1.25, 10.0, 0.125, 0.0),
    "claude-opus-4-1-20250805": (15.0, 75.0, 1.50, 18.75),
}
OPENCODE_VERSION = "1.0.107"
OPENCODE_TOOLS = ("read", "bash", "edit", "grep", "glob", "list", "write", "todowrite")

# (model, weight, premium requests per call)
COPILOT_MODELS = (
    ("claude-sonnet-4.5", 0.5, 1),
    ("gpt-5.4", 0.3, 1),
    ("claude-opus-4.6-1m", 0.2, 3),
)
COPILOT_VERSIONS = ("0.0.354", "0.0.369", "0.0.407-1")
COPILOT_TOOLS = ("bash", "view", "edit", "create", "grep", "glob")

_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_ALNUM = string.ascii_letters + string.digits
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class AgentCliConfig:
    seed: int = 42
    developers: int = 20
    days: int = 35
    end: datetime | None = None
    # Sessions per developer and CLI on a working day (a Poisson mean; weekends see a few).
    sessions_per_day: float = 1.5
    codex_fork_share: float = 0.04
    codex_archived_share: float = 0.1
    copilot_resumed_share: float = 0.25
    opencode_billed_share: float = 0.3  # of OpenCode's users, those whose OpenCode records a cost


@dataclass(frozen=True)
class _Developer:
    name: str
    home: str  # the home folder as the logs name it (/home/dev01, /Users/dev01)
    offset: timedelta  # local time - UTC
    workday_start: float  # local hour
    projects: tuple[str, ...]  # working folders
    opencode_billed: bool = False  # OpenCode records what each call cost


def developer_names(config: AgentCliConfig) -> list[str]:
    width = max(2, len(str(config.developers)))
    return [f"dev-{index + 1:0{width}d}" for index in range(config.developers)]


def developer_agents(config: AgentCliConfig) -> dict[str, tuple[str, str, str]]:
    """Each developer's three agents: Claude Code and two of the four CLIs. The pairs take turns
    in an order that the seed shuffles, so with 20 developers each CLI has 9 to 11."""
    order = list(PAIRS)
    random.Random(f"{config.seed}/pairs").shuffle(order)
    return {
        name: (CLAUDE_CODE, *order[index % len(order)])
        for index, name in enumerate(developer_names(config))
    }


def write_agent_cli_logs(directory: Path, config: AgentCliConfig) -> dict[str, int]:
    """Writes <directory>/<developer>/{.codex,.gemini/tmp,.local/share/opencode,.copilot} (the
    two each developer uses); returns `developers` and per CLI `<cli>_files` (all files
    written), `<cli>_sessions` and `<cli>_usage_records` (what the warehouse's readers turn
    into usage rows: Codex token counts with new totals, a fork's replayed ones included;
    Gemini and OpenCode messages with tokens; Copilot shutdown x model with new usage)."""
    end = (config.end or datetime.now(UTC)).astimezone(UTC)
    start = end - timedelta(days=config.days)
    written = {"developers": config.developers}
    for cli in CLIS:
        written.update({f"{cli}_files": 0, f"{cli}_sessions": 0, f"{cli}_usage_records": 0})
    writers = {
        "codex": _write_codex,
        "gemini_cli": _write_gemini,
        "opencode": _write_opencode,
        "copilot_cli": _write_copilot,
    }
    opencode_users = 0
    for name, agents in developer_agents(config).items():
        developer = _developer(config.seed, name)
        if "opencode" in agents:  # every so many of OpenCode's users pay per token
            share, n = config.opencode_billed_share, opencode_users
            billed = math.floor((n + 1) * share + 0.5) > math.floor(n * share + 0.5)
            developer = dataclasses.replace(developer, opencode_billed=billed)
            opencode_users += 1
        for cli in agents[1:]:
            rng = random.Random(f"{config.seed}/{name}/{cli}")
            home = Path(directory) / name / HOMES[cli]
            writer = _Writer(home, cli, written)
            writers[cli](
                writer, developer, rng, config, _starts(rng, developer, config, start, end), end
            )
    return written


def agent_cli_homes(directory: Path) -> dict[str, list[Path]]:
    """Per CLI name (codex, gemini_cli, opencode, copilot_cli) the folders to point the warehouse
    at, one per developer that uses it: [<directory>/dev-01/.codex, ...] (only existing ones)."""
    developers = sorted(p for p in Path(directory).iterdir() if p.is_dir())
    return {cli: [d / HOMES[cli] for d in developers if (d / HOMES[cli]).is_dir()] for cli in CLIS}


# --- common ----------------------------------------------------------------------------------


def _developer(seed: int, name: str) -> _Developer:
    rng = random.Random(f"{seed}/{name}")
    user = name.replace("-", "")
    home = rng.choice((f"/home/{user}", f"/Users/{user}"))
    folder = rng.choice(("src", "code", "work"))
    projects = rng.sample(PROJECTS, rng.randint(2, 4))
    return _Developer(
        name=name,
        home=home,
        offset=timedelta(hours=rng.choice(UTC_OFFSETS)),
        workday_start=rng.uniform(7.5, 10.5),
        projects=tuple(f"{home}/{folder}/{project}" for project in projects),
    )


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _starts(
    rng: random.Random,
    developer: _Developer,
    config: AgentCliConfig,
    start: datetime,
    end: datetime,
) -> list[datetime]:
    """When the developer starts sessions of one CLI: in their working hours, local days that
    overlap [start, end]. A session that would run past `end` is dropped by its writer."""
    starts = []
    day = (start + developer.offset).date()
    while day <= (end + developer.offset).date():
        working = day.weekday() < 5
        mean = config.sessions_per_day * (1.0 if working else WEEKEND_SHARE)
        for _ in range(_poisson(rng, mean)):
            hours = developer.workday_start + rng.uniform(0, WORKDAY_HOURS)
            local = datetime.combine(day, time()) + timedelta(hours=hours)
            at = (local - developer.offset).replace(tzinfo=UTC)
            if at >= start:
                starts.append(at)
        day += timedelta(days=1)
    return sorted(starts)


def _iso(at: datetime) -> str:
    """UTC with milliseconds and `Z`, as all four CLIs write their times."""
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _ms(at: datetime) -> int:
    """Epoch milliseconds, cut as `_iso` cuts them (no float rounding)."""
    return (at - _EPOCH) // timedelta(milliseconds=1)


def _uuid4(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _uuid7(rng: random.Random, at: datetime) -> str:
    """A time-ordered UUID v7, as Codex names its threads and turns."""
    value = (_ms(at) & (2**48 - 1)) << 80 | 0x7 << 76 | rng.getrandbits(12) << 64
    return str(uuid.UUID(int=value | 0b10 << 62 | rng.getrandbits(62)))


def _hex(rng: random.Random, digits: int) -> str:
    return f"{rng.getrandbits(digits * 4):0{digits}x}"


def _chars(rng: random.Random, alphabet: str, count: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(count))


def _tokens(rng: random.Random, median: float, sigma: float = 0.8, low: int = 1) -> int:
    return max(low, int(rng.lognormvariate(math.log(median), sigma)))


@cache
def _texts() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Prompts, answers and tool outputs to draw from: writing a text costs far more than
    picking one, and the usage, not the prose, is what the sample is for."""
    rng = random.Random("agent-cli-texts")

    def pool(make) -> tuple[str, ...]:
        texts: list[str] = []
        while len(texts) < TEXT_POOL:
            text = make(rng)
            # Never a text the warehouse would redact (`if not token:` reads as a password
            # to it), as written or as JSON escapes it.
            if not any(redaction.redact(t)[1] for t in (text, json.dumps(text))):
                texts.append(text)
        return tuple(texts)

    return (
        pool(transcript_text.user_message),
        pool(transcript_text.assistant_message),
        pool(transcript_text.tool_result_message),
    )


def _prompt(rng: random.Random) -> str:
    return rng.choice(_texts()[0])


def _answer(rng: random.Random) -> str:
    return rng.choice(_texts()[1])


def _tool_output(rng: random.Random) -> str:
    return rng.choice(_texts()[2])


def _pick(rng: random.Random, weighted: tuple) -> tuple:
    return rng.choices(weighted, weights=[item[-1] for item in weighted])[0]


class _Writer:
    """Writes one developer's files of one CLI and counts them."""

    def __init__(self, home: Path, cli: str, written: dict[str, int]):
        self.home, self.cli, self.written = home, cli, written
        self._folders: set[Path] = set()

    def text(self, relative: str, text: str) -> None:
        path = self.home / relative
        if path.parent not in self._folders:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(path.parent)
        path.write_text(text, encoding="utf-8")
        self.written[f"{self.cli}_files"] += 1

    def pretty(self, relative: str, document) -> None:
        """JSON as the Node CLIs write it: `JSON.stringify(value, null, 2)`."""
        self.text(relative, json.dumps(document, indent=2, ensure_ascii=False))

    def lines(self, relative: str, lines: list[dict]) -> None:
        """JSON lines, compact (serde_json and JSON.stringify write no spaces)."""
        dump = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
        self.text(relative, "".join(dump(line) + "\n" for line in lines))

    def session(self, usage_records: int) -> None:
        self.written[f"{self.cli}_sessions"] += 1
        self.written[f"{self.cli}_usage_records"] += usage_records


# --- Codex CLI -------------------------------------------------------------------------------


class _Rollout:
    """One Codex rollout, built line by line; its state is what the next model call sees."""

    def __init__(self, rng: random.Random, developer: _Developer, created: datetime, meta: dict):
        self.rng, self.developer = rng, developer
        self.created = created
        self.id = _uuid7(rng, created)
        self.cwd = rng.choice(developer.projects)
        self.model = _pick(rng, CODEX_MODELS)[0]
        self.effort = rng.choice(("medium", "high", "high"))
        self.at = created + timedelta(seconds=rng.uniform(3, 60))  # the first prompt is sent
        self.lines: list[dict] = []
        self.total = dict.fromkeys(CODEX_COUNTS, 0)
        self.last: dict | None = None
        self.usage_records = 0
        self.context = rng.randint(9_000, 16_000)  # instructions, AGENTS.md, the tree
        self.cached = rng.randint(0, 30) * 128  # the shared prefix another session cached
        self.compact_at = rng.randint(190_000, 235_000)
        self.limits = [rng.uniform(0, 40), rng.uniform(0, 30)]
        self.forked_from: str | None = None
        self.meta = {
            "id": self.id,
            "timestamp": _iso(created),
            "cwd": self.cwd,
            **meta,
            "model_provider": "openai",
            "base_instructions": {"text": "You are Codex, a coding agent based on GPT-5."},
            "git": {
                "commit_hash": _hex(rng, 40),
                "branch": rng.choice(("main", "main", "fix/retry-backoff", "feature/pagination")),
                "repository_url": f"https://github.com/example-org/{Path(self.cwd).name}.git",
            },
        }
        self._line("session_meta", self.meta)

    def fork(self, at: datetime) -> _Rollout:
        """A new thread forked from this one at `at`: its first line names this thread as the
        parent, then this rollout's lines follow again (token counts too), re-timed within the
        same second as Codex writes the replayed history, before the fork's own turns."""
        rng = self.rng
        child = object.__new__(_Rollout)
        child.__dict__.update(self.__dict__)
        child.created = at.replace(microsecond=rng.randint(0, 40) * 1000)
        child.id = _uuid7(rng, child.created)
        child.forked_from = self.id
        child.meta = {
            "id": child.id,
            "forked_from_id": self.id,
            **{key: value for key, value in self.meta.items() if key != "id"},
            "timestamp": _iso(child.created),
        }
        child.at = child.created
        child.lines = []
        child.total, child.last = dict(self.total), self.last
        child.limits = list(self.limits)
        child._line("session_meta", child.meta)
        count = len(self.lines)
        for index, line in enumerate(self.lines):
            replayed = child.created + timedelta(milliseconds=1 + index * 900 // count)
            child.lines.append({**line, "timestamp": _iso(replayed)})
        child.at = child.created + timedelta(milliseconds=950)
        return child

    def _line(self, kind: str, payload: dict) -> None:
        self.lines.append({"timestamp": _iso(self.at), "type": kind, "payload": payload})

    def _event(self, payload: dict) -> None:
        self._line("event_msg", payload)

    def _tick(self, low: float, high: float) -> None:
        self.at += timedelta(seconds=self.rng.uniform(low, high))

    def _rate_limits(self) -> dict:
        self.limits = [min(100.0, limit + self.rng.uniform(0, 0.4)) for limit in self.limits]
        resets = int(self.at.timestamp())
        return {
            "limit_id": "codex",
            "limit_name": None,
            "primary": {
                "used_percent": round(self.limits[0]),
                "window_minutes": 300,
                "resets_at": resets + 4 * 3600,
            },
            "secondary": {
                "used_percent": round(self.limits[1]),
                "window_minutes": 10080,
                "resets_at": resets + 5 * 86400,
            },
            "credits": {"has_credits": False, "unlimited": False, "balance": None},
            "plan_type": None,
        }

    def _token_count(self) -> None:
        info = None
        if self.last is not None:
            info = {
                "total_token_usage": dict(self.total),
                "last_token_usage": dict(self.last),
                "model_context_window": CODEX_CONTEXT_WINDOW,
            }
        self._event({"type": "token_count", "info": info, "rate_limits": self._rate_limits()})

    def _model_call(self) -> None:
        """A model call's usage: the whole context in, most of it cached from the call before."""
        rng = self.rng
        prompt = self.context
        output = _tokens(rng, 260, low=12)
        reasoning = int(output * rng.uniform(0.05, 0.7)) if rng.random() < 0.85 else 0
        self.last = {
            "input_tokens": prompt,
            "cached_input_tokens": min(self.cached, prompt - 1),
            "output_tokens": output,
            "reasoning_output_tokens": reasoning,
            "total_tokens": prompt + output,
        }
        self.total = {key: self.total[key] + self.last[key] for key in CODEX_COUNTS}
        self.usage_records += 1
        self.cached = 0 if rng.random() < 0.03 else prompt // 128 * 128  # a cache miss, rarely
        self.context = prompt + output
        self._token_count()

    def _compact(self) -> None:
        rng = self.rng
        history = [
            {"type": "message", "role": role, "content": [{"type": kind, "text": text}]}
            for role, kind, text in (
                ("user", "input_text", _prompt(rng)),
                ("assistant", "output_text", _answer(rng)),
            )
        ]
        self._line("compacted", {"message": "", "replacement_history": history})
        self._event({"type": "context_compacted"})
        self.context = rng.randint(14_000, 30_000)
        self.cached = rng.randint(40, 80) * 128
        self.compact_at = rng.randint(190_000, 235_000)

    def _tool_calls(self) -> list[dict]:
        """The calls of one model response, and their outputs (returned, written after the
        token count as Codex writes them)."""
        rng = self.rng
        outputs = []
        for _ in range(rng.choices((1, 2, 3, 4), weights=(5, 3, 2, 1))[0]):
            call_id = "call_" + _chars(rng, _ALNUM, 24)
            kind = rng.random()
            if kind < 0.12:
                patch = (
                    f"*** Begin Patch\n*** Update File: {rng.choice(('src', 'lib'))}/handler.py\n"
                    "@@\n-    timeout = 5\n+    timeout = config.get('timeout', 30)\n"
                    "*** End Patch\n"
                )
                self._line(
                    "response_item",
                    {
                        "type": "custom_tool_call",
                        "status": "completed",
                        "call_id": call_id,
                        "name": "apply_patch",
                        "input": patch,
                    },
                )
                result = {
                    "output": "Success. Updated the following files:\nM src/handler.py\n",
                    "metadata": {"exit_code": 0, "duration_seconds": 0.1},
                }
                outputs.append(
                    {
                        "type": "custom_tool_call_output",
                        "call_id": call_id,
                        "output": json.dumps(result, separators=(",", ":")),
                    }
                )
            elif kind < 0.16:
                self._line("response_item", {"type": "web_search_call", "status": "completed"})
            elif kind < 0.22:
                plan = [
                    {"step": step, "status": rng.choice(("completed", "in_progress", "pending"))}
                    for step in CODEX_PLAN_STEPS
                ]
                arguments = json.dumps({"plan": plan}, separators=(",", ":"))
                self._line(
                    "response_item",
                    {
                        "type": "function_call",
                        "name": "update_plan",
                        "arguments": arguments,
                        "call_id": call_id,
                    },
                )
                outputs.append(
                    {"type": "function_call_output", "call_id": call_id, "output": "Plan updated"}
                )
            else:
                command = rng.choice(
                    ("pytest -q", "rg -n retry src", "git status --short", "ls -la", "make lint")
                )
                arguments = json.dumps({"cmd": command, "workdir": self.cwd}, separators=(",", ":"))
                self._line(
                    "response_item",
                    {
                        "type": "function_call",
                        "name": "exec_command",
                        "arguments": arguments,
                        "call_id": call_id,
                    },
                )
                outputs.append(
                    {
                        "type": "function_call_output",
                        "call_id": call_id,
                        "output": _tool_output(rng),
                    }
                )
            self.context += rng.randint(150, 6_000)  # what the tool returns, as the model sees it
        return outputs

    def turn(self, first: bool) -> None:
        """A prompt and the model calls that answer it."""
        rng = self.rng
        if not first:
            self._tick(20, 900)  # the developer reads, thinks, types
            if rng.random() < 0.08:  # /model
                self.model = _pick(rng, CODEX_MODELS)[0]
        turn_id = _uuid7(rng, self.at)
        self._event(
            {
                "type": "task_started",
                "turn_id": turn_id,
                "started_at": int(self.at.timestamp()),
                "model_context_window": CODEX_CONTEXT_WINDOW,
                "collaboration_mode_kind": "default",
            }
        )
        prompt = _prompt(rng)
        self._line(
            "response_item",
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": prompt}],
            },
        )
        self._event(
            {
                "type": "user_message",
                "message": prompt,
                "images": [],
                "local_images": [],
                "text_elements": [],
            }
        )
        self.context += len(prompt) // 4 + 8
        context = {
            "turn_id": turn_id,
            "cwd": self.cwd,
            "approval_policy": "on-request",
            "sandbox_policy": {
                "type": "workspace-write",
                "writable_roots": [self.cwd],
                "network_access": False,
            },
            "model": self.model,
            "effort": self.effort,
            "summary": "auto",
        }
        self._line("turn_context", context)
        if first:
            self._tick(0.2, 0.6)
            self._token_count()  # rate limits only: `info` is null before the first call
        steps = rng.choices(range(1, 13), weights=(4, 5, 6, 6, 5, 4, 3, 3, 2, 2, 1, 1))[0]
        for step in range(steps):
            if self.context > self.compact_at:
                self._compact()
            self._tick(1.5, 25)
            summary = f"**{rng.choice(REASONING_SUBJECTS)}**"
            self._event({"type": "agent_reasoning", "text": summary})
            self._line(
                "response_item",
                {
                    "type": "reasoning",
                    "summary": [{"type": "summary_text", "text": summary}],
                    "content": None,
                    "encrypted_content": None,
                },
            )
            text = _answer(rng)
            final = step == steps - 1
            if final or rng.random() < 0.6:
                self._event({"type": "agent_message", "message": text})
                self._line(
                    "response_item",
                    {
                        "type": "message",
                        "role": "assistant",
                        "content": [{"type": "output_text", "text": text}],
                        "phase": "final_answer" if final else "commentary",
                    },
                )
            if final:
                self._model_call()
                self._tick(0.01, 0.2)
                self._event(
                    {"type": "task_complete", "turn_id": turn_id, "last_agent_message": text}
                )
                continue
            outputs = self._tool_calls()
            self._model_call()
            self._tick(0.05, 30)
            for output in outputs:
                self._line("response_item", output)
            self._tick(0.002, 0.02)
            self._line("turn_context", context)
            if rng.random() < 0.95:
                self._tick(0.3, 0.7)
                self._token_count()  # the same totals again: a repeated snapshot


def _write_codex(
    writer: _Writer,
    developer: _Developer,
    rng: random.Random,
    config: AgentCliConfig,
    starts: list[datetime],
    end: datetime,
) -> None:
    originator, source = rng.choice(CODEX_ORIGINS)
    meta = {"originator": originator, "cli_version": rng.choice(CODEX_VERSIONS), "source": source}
    rollouts: list[_Rollout] = []
    for at in starts:
        rollout = _Rollout(rng, developer, at, meta)
        for turn in range(rng.choices(range(1, 8), weights=(5, 5, 4, 3, 2, 1, 1))[0]):
            rollout.turn(first=turn == 0)
        if rollout.at <= end:
            rollouts.append(rollout)
    forks = []
    for parent in rollouts:
        if rng.random() < config.codex_fork_share:
            fork = parent.fork(parent.at + timedelta(minutes=rng.uniform(2, 240)))
            for _ in range(rng.randint(1, 3)):
                fork.turn(first=False)
            if fork.at <= end:
                forks.append(fork)
    for rollout in rollouts + forks:
        local = rollout.created + developer.offset
        name = f"rollout-{local:%Y-%m-%dT%H-%M-%S}-{rollout.id}.jsonl"
        archived = rollout.forked_from is None and rng.random() < config.codex_archived_share
        folder = "archived_sessions" if archived else f"sessions/{local:%Y/%m/%d}"
        writer.lines(f"{folder}/{name}", rollout.lines)
        writer.session(rollout.usage_records)


# --- Gemini CLI ------------------------------------------------------------------------------


def _gemini_session(
    rng: random.Random, launched: datetime, project_hash: str, flash_share: float
) -> dict:
    at = launched + timedelta(seconds=rng.uniform(5, 240))
    session_id = _uuid4(rng)
    messages = []
    context = rng.randint(6_500, 9_500)  # the system prompt and the folder tree
    cached = 0
    for prompt in range(rng.choices(range(1, 9), weights=(4, 5, 4, 3, 2, 2, 1, 1))[0]):
        if prompt:
            at += timedelta(seconds=rng.uniform(20, 900))
        text = _prompt(rng)
        messages.append({"id": _uuid4(rng), "timestamp": _iso(at), "type": "user", "content": text})
        context += len(text) // 4 + 4
        for _ in range(rng.choices(range(1, 6), weights=(5, 4, 3, 2, 1))[0]):
            at += timedelta(seconds=rng.uniform(2, 30))
            model = GEMINI_FLASH if rng.random() < flash_share else GEMINI_PRO
            thinking = model == GEMINI_PRO or rng.random() < 0.4
            output = _tokens(rng, 140, low=8)
            thoughts = _tokens(rng, 300, 0.9, low=40) if thinking else 0
            tool = rng.randint(20, 400) if rng.random() < 0.03 else 0
            tokens = {
                "input": context,
                "output": output,
                "cached": min(cached, context),  # part of `input`, as Gemini's API counts it
                "thoughts": thoughts,
                "tool": tool,
                "total": context + output + thoughts + tool,
            }
            thought_list = [
                {
                    "subject": rng.choice(REASONING_SUBJECTS),
                    "description": _answer(rng).split("\n\n")[0],
                    "timestamp": _iso(at - timedelta(seconds=rng.uniform(0.5, 2))),
                }
                for _ in range(rng.randint(1, 3) if thinking else 0)
            ]
            messages.append(
                {
                    "id": _uuid4(rng),
                    "timestamp": _iso(at),
                    "type": "gemini",
                    "content": _answer(rng),
                    "thoughts": thought_list,
                    "tokens": tokens,
                    "model": model,
                }
            )
            # Implicit caching: a later call often finds most of this prompt cached.
            cached = int(context * rng.uniform(0.7, 0.95)) if rng.random() < 0.7 else 0
            context += output + rng.randint(50, 4_000)  # the answer and the tools' results
    return {
        "sessionId": session_id,
        "projectHash": project_hash,
        "startTime": messages[0]["timestamp"],
        "lastUpdated": messages[-1]["timestamp"],
        "messages": messages,
    }


def _write_gemini(
    writer: _Writer,
    developer: _Developer,
    rng: random.Random,
    config: AgentCliConfig,
    starts: list[datetime],
    end: datetime,
) -> None:
    flash_share = rng.choice((0.05, 0.15, 0.15, 0.3, 0.7))
    hashes = {p: hashlib.sha256(p.encode()).hexdigest() for p in developer.projects}
    chats: dict[str, list[tuple[datetime, dict]]] = {}
    for launched in starts:
        project = rng.choice(developer.projects)
        document = _gemini_session(rng, launched, hashes[project], flash_share)
        if document["lastUpdated"] <= _iso(end):
            chats.setdefault(project, []).append((launched, document))
    for index, (project, documents) in enumerate(sorted(chats.items())):
        folder = hashes[project]
        prompts = []
        for launched, document in documents:
            session_id = document["sessionId"]
            # Gemini CLI names the file from `new Date().toISOString()`: UTC, to the minute.
            name = f"session-{launched:%Y-%m-%dT%H-%M}-{session_id[:8]}.json"
            writer.pretty(f"{folder}/chats/{name}", document)
            users = [m for m in document["messages"] if m["type"] == "user"]
            usage = sum(1 for m in document["messages"] if m["type"] == "gemini")
            writer.session(usage)
            prompts += [
                {
                    "sessionId": session_id,
                    "messageId": number,
                    "type": "user",
                    "message": message["content"],
                    "timestamp": message["timestamp"],
                }
                for number, message in enumerate(users)
            ]
        writer.pretty(f"{folder}/logs.json", sorted(prompts, key=lambda p: p["timestamp"]))
        if index == 0:  # `/chat save <tag>`: the conversation as Gemini API contents
            first = documents[0][1]["messages"]
            checkpoint = [
                {
                    "role": "user",
                    "parts": [
                        {
                            "text": "This is the Gemini CLI. We are setting up the context for "
                            f"our chat.\nI'm currently working in the directory: {project}"
                        }
                    ],
                },
                {"role": "model", "parts": [{"text": "Got it. Thanks for the context!"}]},
                *(
                    {
                        "role": "user" if m["type"] == "user" else "model",
                        "parts": [{"text": m["content"]}],
                    }
                    for m in first[:4]
                ),
            ]
            writer.pretty(f"{folder}/checkpoint-{project.rsplit('/', 1)[1]}.json", checkpoint)


# --- OpenCode --------------------------------------------------------------------------------


class _OpenCodeIds:
    """OpenCode's identifiers: `<prefix>_` + 12 hex digits of (ms * 0x1000 + a counter within the
    millisecond), bit-inverted for sessions so that the newest sorts first, + 14 base62."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.last_ms, self.counter = 0, 0

    def make(self, prefix: str, at: datetime, descending: bool = False) -> str:
        ms = _ms(at)
        self.counter = self.counter + 1 if ms == self.last_ms else 1
        self.last_ms = ms
        value = (ms * 0x1000 + self.counter) & (2**48 - 1)
        if descending:
            value = ~value & (2**48 - 1)
        return f"{prefix}_{value:012x}{_chars(self.rng, _BASE62, 14)}"


class _OpenCodeSession:
    def __init__(
        self,
        rng: random.Random,
        ids: _OpenCodeIds,
        created: datetime,
        directory: str,
        model: tuple[str, str],
        billed: bool,
    ):
        self.rng, self.ids, self.billed = rng, ids, billed
        self.provider, self.model = model
        self.directory = directory
        self.created = created
        self.id = ids.make("ses", created, descending=True)
        self.at = created + timedelta(milliseconds=rng.randint(5, 30))
        self.messages: list[tuple[dict, list[dict]]] = []  # (message, its parts)
        self.usage_records = 0
        self.title = ""
        self.context = rng.randint(10_000, 14_000)
        self.cached = 0

    def _part(self, message_id: str, at: datetime, kind: str, **fields) -> dict:
        return {
            "id": self.ids.make("prt", at),
            "sessionID": self.id,
            "messageID": message_id,
            "type": kind,
            **fields,
        }

    def _usage(self) -> tuple[dict, float]:
        rng = self.rng
        new = self.context - self.cached
        output = _tokens(rng, 280, low=8)
        reasoning = 0
        if self.provider == "anthropic":  # cache written explicitly; input is what is left
            tokens = {"input": rng.randint(2, 12), "output": output, "reasoning": 0}
            cache = {"read": self.cached, "write": new}
        else:  # openai: automatic caching, no writes; reasoning beside the output
            reasoning = _tokens(rng, 180, low=0) if rng.random() < 0.8 else 0
            tokens = {"input": new, "output": output, "reasoning": reasoning}
            cache = {"read": self.cached, "write": 0}
        tokens["cache"] = cache
        price = OPENCODE_PRICES[self.model]
        cost: float = 0  # JSON.stringify writes 0, not 0.0
        if self.billed:
            cost = round(
                (
                    tokens["input"] * price[0]
                    + (output + reasoning) * price[1]
                    + cache["read"] * price[2]
                    + cache["write"] * price[3]
                )
                / 1e6,
                8,
            )
        self.cached = self.context
        self.context += output
        return tokens, cost

    def prompt(self) -> None:
        rng = self.rng
        text = _prompt(rng)
        self.title = self.title or text.split(".")[0][:60]
        user_id = self.ids.make("msg", self.at)
        user = {
            "id": user_id,
            "sessionID": self.id,
            "role": "user",
            "time": {"created": _ms(self.at)},
            "summary": {"title": self.title, "diffs": []},
            "agent": "build",
            "model": {"providerID": self.provider, "modelID": self.model},
        }
        self.messages.append((user, [self._part(user_id, self.at, "text", text=text)]))
        self.context += len(text) // 4 + 4
        if rng.random() < 0.04:  # the provider refuses the call: no usage
            self.at += timedelta(milliseconds=rng.randint(3, 40))
            self._assistant(user_id, error=True)
        steps = rng.choices(range(1, 9), weights=(3, 4, 4, 3, 2, 2, 1, 1))[0]
        for step in range(steps):
            self.at += timedelta(milliseconds=rng.randint(3, 40))
            self._assistant(user_id, final=step == steps - 1)

    def _assistant(self, parent_id: str, final: bool = False, error: bool = False) -> None:
        rng = self.rng
        created = self.at
        message_id = self.ids.make("msg", created)
        self.at += timedelta(seconds=rng.uniform(0.4, 2) if error else rng.uniform(1.5, 40))
        message = {
            "id": message_id,
            "sessionID": self.id,
            "role": "assistant",
            "time": {"created": _ms(created), "completed": _ms(self.at)},
        }
        if error:
            message["error"] = {
                "name": "APIError",
                "data": {"message": "Overloaded", "statusCode": 529, "isRetryable": True},
            }
        message.update(
            {
                "parentID": parent_id,
                "modelID": self.model,
                "providerID": self.provider,
                "mode": "build",
                "path": {"cwd": self.directory, "root": self.directory},
            }
        )
        if error:
            zero = {"input": 0, "output": 0, "reasoning": 0, "cache": {"read": 0, "write": 0}}
            message.update({"cost": 0, "tokens": zero})
            self.messages.append((message, []))
            return
        tokens, cost = self._usage()
        self.usage_records += 1
        snapshot = _hex(rng, 40)
        started = created + timedelta(milliseconds=rng.randint(300, 1500))
        parts = [self._part(message_id, started, "step-start", snapshot=snapshot)]
        if final or rng.random() < 0.5:
            text = _answer(rng)
            parts.append(self._part(message_id, started, "text", text=text))
        if not final:
            for _ in range(rng.choices((1, 2, 3), weights=(5, 2, 1))[0]):
                tool = rng.choice(OPENCODE_TOOLS)
                output = _tool_output(rng)
                state = {
                    "status": "completed",
                    "input": {"filePath": f"{self.directory}/README.md"}
                    if tool in ("read", "edit", "write")
                    else {"command": "pytest -q", "description": "Run the tests"},
                    "output": output,
                    "title": "README.md" if tool in ("read", "edit", "write") else "pytest -q",
                    "metadata": {},
                    "time": {"start": _ms(self.at), "end": _ms(self.at) + rng.randint(5, 4000)},
                }
                call_id = ("toolu_01" if self.provider == "anthropic" else "call_") + _chars(
                    rng, _ALNUM, 22
                )
                parts.append(
                    self._part(message_id, self.at, "tool", callID=call_id, tool=tool, state=state)
                )
                self.context += rng.randint(150, 5_000)
        finish = "stop" if final else "tool-calls"
        parts.append(
            self._part(
                message_id,
                self.at,
                "step-finish",
                reason=finish,
                snapshot=snapshot,
                cost=cost,
                tokens=tokens,
            )
        )
        message.update({"cost": cost, "tokens": tokens, "finish": finish})
        self.messages.append((message, parts))
        if not final:
            self.at += timedelta(seconds=rng.uniform(0.05, 20))  # the tools run


def _write_opencode(
    writer: _Writer,
    developer: _Developer,
    rng: random.Random,
    config: AgentCliConfig,
    starts: list[datetime],
    end: datetime,
) -> None:
    billed = developer.opencode_billed
    ids = _OpenCodeIds(rng)
    projects = {p: _hex(rng, 40) for p in developer.projects}  # OpenCode: the root commit
    used: dict[str, datetime] = {}
    for created in starts:
        directory = rng.choice(developer.projects)
        provider, model, _ = _pick(rng, OPENCODE_MODELS)
        session = _OpenCodeSession(rng, ids, created, directory, (provider, model), billed)
        for prompt in range(rng.choices(range(1, 7), weights=(5, 4, 3, 2, 1, 1))[0]):
            if prompt:
                session.at += timedelta(seconds=rng.uniform(20, 900))
            session.prompt()
        if session.at > end:
            continue
        used.setdefault(directory, created)
        project_id = projects[directory]
        changed = rng.randint(0, 4)
        writer.pretty(
            f"storage/session/{project_id}/{session.id}.json",
            {
                "id": session.id,
                "version": OPENCODE_VERSION,
                "projectID": project_id,
                "directory": directory,
                "title": session.title,
                "time": {"created": _ms(created), "updated": _ms(session.at)},
                "summary": {
                    "additions": changed * rng.randint(0, 40),
                    "deletions": changed * rng.randint(0, 15),
                    "files": changed,
                },
            },
        )
        writer.pretty(f"storage/session_diff/{session.id}.json", [])
        for message, parts in session.messages:
            writer.pretty(f"storage/message/{session.id}/{message['id']}.json", message)
            for part in parts:
                writer.pretty(f"storage/part/{message['id']}/{part['id']}.json", part)
        writer.session(session.usage_records)
    for directory, first in used.items():
        writer.pretty(
            f"storage/project/{projects[directory]}.json",
            {
                "id": projects[directory],
                "worktree": directory,
                "vcs": "git",
                "time": {"created": _ms(first) - 60_000},
            },
        )
    if used:
        writer.text("storage/migration", "2")


# --- GitHub Copilot CLI ----------------------------------------------------------------------


class _CopilotSession:
    def __init__(self, rng: random.Random, started: datetime, cwd: str, version: str):
        self.rng, self.cwd = rng, cwd
        self.id = _uuid4(rng)
        self.started = started
        self.at = started
        self.model, _, self.premium = _pick(rng, COPILOT_MODELS)
        self.events: list[dict] = []
        self.parent: str | None = None
        self.metrics: dict[str, dict] = {}  # the session's cumulative usage per model
        self.used: set[str] = set()  # the models called since the last shutdown
        self.turns = 0
        self.usage_records = 0
        self.api_ms = 0
        self.lines_changed = [0, 0]
        self.context = rng.randint(12_000, 20_000)
        self.cached = 0
        self._event(
            "session.start",
            {
                "sessionId": self.id,
                "version": 1,
                "producer": "copilot-agent",
                "copilotVersion": version,
                "startTime": _iso(started),
                "context": {
                    "cwd": cwd,
                    "gitRoot": cwd,
                    "branch": "main",
                    "repository": f"example-org/{cwd.rsplit('/', 1)[1]}",
                },
            },
        )

    def _event(self, kind: str, data: dict) -> None:
        event_id = _uuid4(self.rng)
        self.events.append(
            {
                "type": kind,
                "data": data,
                "id": event_id,
                "timestamp": _iso(self.at),
                "parentId": self.parent,
            }
        )
        self.parent = event_id

    def _request(self) -> None:
        """One model call added to the model's cumulative metrics."""
        rng = self.rng
        metrics = self.metrics.setdefault(
            self.model,
            {
                "requests": {"count": 0, "cost": 0},
                "usage": dict.fromkeys(
                    (
                        "inputTokens",
                        "outputTokens",
                        "cacheReadTokens",
                        "cacheWriteTokens",
                        "reasoningTokens",
                    ),
                    0,
                ),
            },
        )
        claude = self.model.startswith("claude")
        output = _tokens(rng, 240, low=6)
        reasoning = 0 if claude else int(output * rng.uniform(0, 0.6))
        read = min(self.cached, self.context)
        # Claude: the new part of the prompt is written to the cache but for a few tokens.
        written = max(0, self.context - read - rng.randint(3, 40)) if claude else 0
        usage = metrics["usage"]
        usage["inputTokens"] += self.context  # cache included
        usage["cacheReadTokens"] += read
        usage["cacheWriteTokens"] += written
        usage["outputTokens"] += output
        usage["reasoningTokens"] += reasoning
        metrics["requests"]["count"] += 1
        metrics["requests"]["cost"] += self.premium
        self.used.add(self.model)
        self.api_ms += rng.randint(1_500, 30_000)
        self.cached = self.context if claude or rng.random() < 0.85 else 0
        self.context += output

    def turn(self) -> None:
        rng = self.rng
        text = _prompt(rng)
        self._event(
            "user.message", {"content": text, "transformedContent": text, "attachments": []}
        )
        self.context += len(text) // 4 + 4
        turn, self.turns = self.turns, self.turns + 1
        self.at += timedelta(milliseconds=rng.randint(20, 200))
        self._event("assistant.turn_start", {"turnId": str(turn)})
        steps = rng.choices(range(1, 9), weights=(3, 4, 4, 3, 2, 2, 1, 1))[0]
        for step in range(steps):
            self.at += timedelta(seconds=rng.uniform(1.5, 30))
            self._request()
            final = step == steps - 1
            calls = []
            if not final:
                prefix = "toolu_vrtx_01" if self.model.startswith("claude") else "call_"
                for _ in range(rng.choices((1, 2, 3), weights=(5, 2, 1))[0]):
                    tool = rng.choice(COPILOT_TOOLS)
                    arguments = (
                        {"command": "pytest -q", "description": "Run the tests"}
                        if tool == "bash"
                        else {"path": f"{self.cwd}/src/handler.py"}
                    )
                    call = {
                        "toolCallId": prefix + _chars(rng, _ALNUM, 22),
                        "name": tool,
                        "arguments": arguments,
                        "type": "function",
                    }
                    calls.append(call)
            content = _answer(rng) if final or rng.random() < 0.5 else ""
            self._event(
                "assistant.message",
                {"messageId": _uuid4(rng), "content": content, "toolRequests": calls},
            )
            for call in calls:
                self.at += timedelta(milliseconds=rng.randint(5, 50))
                self._event(
                    "tool.execution_start",
                    {
                        "toolCallId": call["toolCallId"],
                        "toolName": call["name"],
                        "arguments": call["arguments"],
                    },
                )
                self.at += timedelta(seconds=rng.uniform(0.05, 20))
                success = rng.random() > 0.06
                self._event(
                    "tool.execution_complete",
                    {
                        "toolCallId": call["toolCallId"],
                        "success": success,
                        "result": {"content": _tool_output(rng)},
                        "toolTelemetry": {},
                    },
                )
                self.context += rng.randint(150, 5_000)
                if call["name"] in ("edit", "create"):
                    self.lines_changed[0] += rng.randint(1, 40)
                    self.lines_changed[1] += rng.randint(0, 15)
        self._event("assistant.turn_end", {"turnId": str(turn)})

    def shutdown(self) -> None:
        """Exit: the session's usage so far, per model (cumulative over resumes)."""
        self.at += timedelta(seconds=self.rng.uniform(2, 120))
        metrics = {
            model: {
                "requests": {"count": m["requests"]["count"], "cost": m["requests"]["cost"]},
                "usage": dict(m["usage"]),
            }
            for model, m in self.metrics.items()
        }
        self._event(
            "session.shutdown",
            {
                "shutdownType": "routine",
                "totalPremiumRequests": sum(m["requests"]["cost"] for m in metrics.values()),
                "totalApiDurationMs": self.api_ms,
                "sessionStartTime": _ms(self.started),
                "codeChanges": {
                    "linesAdded": self.lines_changed[0],
                    "linesRemoved": self.lines_changed[1],
                    "filesModified": [f"{self.cwd}/src/handler.py"]
                    if self.lines_changed[0]
                    else [],
                },
                "currentModel": self.model,
                "modelMetrics": metrics,
            },
        )
        self.usage_records += len(self.used)
        self.used = set()

    def resume(self, gap: timedelta) -> None:
        rng = self.rng
        self.at += gap
        self._event("session.resume", {"resumeTime": _iso(self.at), "eventCount": len(self.events)})
        if rng.random() < 0.3:  # /model
            previous = self.model
            self.model, _, self.premium = _pick(rng, COPILOT_MODELS)
            if self.model != previous:
                self.at += timedelta(seconds=rng.uniform(1, 30))
                self._event(
                    "session.model_change", {"previousModel": previous, "newModel": self.model}
                )
        self.cached = 0  # a new process: the provider's cache has expired


def _write_copilot(
    writer: _Writer,
    developer: _Developer,
    rng: random.Random,
    config: AgentCliConfig,
    starts: list[datetime],
    end: datetime,
) -> None:
    version = rng.choice(COPILOT_VERSIONS)
    for started in starts:
        cwd = rng.choice(developer.projects)
        session = _CopilotSession(rng, started, cwd, version)
        runs = 1
        while runs < 4 and rng.random() < config.copilot_resumed_share:
            runs += 1
        for run in range(runs):
            if run:
                session.resume(timedelta(minutes=rng.uniform(20, 36 * 60)))
            for turn in range(rng.choices(range(1, 6), weights=(5, 4, 3, 2, 1))[0]):
                if turn or run:
                    session.at += timedelta(seconds=rng.uniform(20, 900))
                session.turn()
            session.shutdown()
        if session.at > end:
            continue
        folder = f"session-state/{session.id}"
        writer.lines(f"{folder}/events.jsonl", session.events)
        writer.text(
            f"{folder}/workspace.yaml",
            f"id: {session.id}\ncwd: {cwd}\ngit_root: {cwd}\nbranch: main\n"
            f"created_at: {_iso(started)}\nupdated_at: {_iso(session.at)}\n",
        )
        writer.session(session.usage_records)
