"""Transcript messages that read like a coding agent's session: prose, code and tool output."""

from __future__ import annotations

import random

_PROMPTS = (
    "Can you look at why {module} fails on {thing}? The tests started failing after the last merge.",
    "Add a {thing} option to {module} and update the docs.",
    "Refactor {module} so that {thing} is computed once instead of on every request.",
    "The {thing} endpoint is slow in production. Find out why and fix it.",
    "Write tests for {module}; I want the edge cases around {thing} covered.",
    "Please review my changes to {module} before I open the PR.",
    "Why does {module} log a warning about {thing} at startup?",
    "Rename {thing} to something clearer across the codebase.",
)
_MODULES = (
    "src/server/routes.ts",
    "ingest/loader.py",
    "lib/cache.rs",
    "cmd/worker/main.go",
    "app/models/invoice.rb",
    "src/components/Table.tsx",
    "db/migrations",
    "scripts/deploy.sh",
)
_THINGS = (
    "retry backoff",
    "empty input",
    "time zones",
    "pagination",
    "the config file",
    "connection pooling",
    "unicode names",
    "large payloads",
    "the session cache",
    "rate limits",
)
_ASSISTANT_OPENERS = (
    "I'll start by reading {module} to understand how {thing} is handled.",
    "Let me search for where {thing} is used.",
    "I found the problem: {module} reads {thing} before it is initialised.",
    "The failing test expects {thing} to be preserved, but the new code drops it.",
    "I've updated {module}. Here is the change:",
    "Looking at the stack trace, the error comes from {module}.",
    "Before changing anything, I'll run the test suite to see the current state.",
)
_ASSISTANT_CLOSERS = (
    "All tests pass now. The fix keeps the old behaviour for existing callers.",
    "I've also added a regression test so this doesn't come back.",
    "Let me know if you want me to split this into two commits.",
    "One open question: should {thing} be configurable per tenant?",
    "This should reduce the latency noticeably; I measured it locally.",
)
_CODE = (
    '```python\ndef load_{name}(path: str) -> dict:\n    with open(path, encoding="utf-8") as fh:\n'
    '        data = json.load(fh)\n    if "{name}" not in data:\n'
    '        raise KeyError("missing {name} in " + path)\n    return data["{name}"]\n```',
    "```ts\nexport async function fetch{Name}(id: string): Promise<{Name}> {{\n"
    "  const res = await fetch(`/api/{name}/${{id}}`);\n"
    "  if (!res.ok) throw new Error(`{name} ${{id}}: ${{res.status}}`);\n  return res.json();\n}}\n```",
    "```sql\nselect {name}_id, count(*) as n\nfrom {name}s\nwhere created_at >= now() - interval '7 days'\n"
    "group by 1\norder by n desc\nlimit 20;\n```",
    "```go\nfunc (s *Server) handle{Name}(w http.ResponseWriter, r *http.Request) {{\n"
    "\tctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)\n\tdefer cancel()\n"
    "\tif err := s.store.Save{Name}(ctx, r.Body); err != nil {{\n"
    "\t\thttp.Error(w, err.Error(), http.StatusBadRequest)\n\t\treturn\n\t}}\n}}\n```",
    '```diff\n-    timeout = 5\n+    timeout = config.get("{name}_timeout", 30)\n'
    "     client = Client(timeout=timeout)\n```",
)
_NAMES = ("invoice", "session", "user", "report", "token", "order", "widget", "job")
_TOOL_OUTPUTS = (
    "============================= test session starts ==============================\n"
    "collected {n} items\n\ntests/test_{name}.py {dots}\n\n"
    "============================== {n} passed in {secs}s ===============================",
    "FAILED tests/test_{name}.py::test_{name}_roundtrip - AssertionError: assert {n} == {m}\n"
    "E   AssertionError: expected {n} rows, got {m}\n1 failed, {m} passed in {secs}s",
    "{listing}",
    "src/{name}.py:{n}:    def {name}_handler(self, request):\n"
    "src/{name}.py:{m}:        return self.{name}_handler(request)\ntests/test_{name}.py:12:    "
    "handler = {Name}Handler()",
    " {n} files changed, {m} insertions(+), {k} deletions(-)\n create mode 100644 tests/test_{name}.py",
    "The file src/{name}.py has been updated. Here's the result of running `cat -n` on a snippet:\n"
    "    {n}\t    if not {name}:\n    {m}\t        return None\n    {k}\t    return {name}.id",
)


def _fill(template: str, rng: random.Random) -> str:
    name = rng.choice(_NAMES)
    n, m = rng.randint(3, 240), rng.randint(1, 200)
    listing = "\n".join(
        f"-rw-r--r--  1 dev dev {rng.randint(120, 90000):>6} Nov {rng.randint(1, 28):>2} "
        f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d} {rng.choice(_NAMES)}_{i}.py"
        for i in range(rng.randint(3, 25))
    )
    return template.format(
        module=rng.choice(_MODULES),
        thing=rng.choice(_THINGS),
        name=name,
        Name=name.capitalize(),
        n=n,
        m=m,
        k=rng.randint(0, 90),
        secs=f"{rng.uniform(0.2, 40):.2f}",
        dots="." * min(n, 60),
        listing=listing,
    )


def user_message(rng: random.Random) -> str:
    text = _fill(rng.choice(_PROMPTS), rng)
    if rng.random() < 0.25:
        text += "\n\n" + _fill(rng.choice(_TOOL_OUTPUTS), rng)
    return text


def assistant_message(rng: random.Random) -> str:
    parts = [_fill(rng.choice(_ASSISTANT_OPENERS), rng)]
    if rng.random() < 0.55:
        parts.append(_fill(rng.choice(_CODE), rng))
    if rng.random() < 0.4:
        parts.append(_fill(rng.choice(_ASSISTANT_CLOSERS), rng))
    return "\n\n".join(parts)


def tool_result_message(rng: random.Random) -> str:
    return _fill(rng.choice(_TOOL_OUTPUTS), rng)


def transcript(rng: random.Random, turns: int) -> list[dict]:
    """A user prompt, then assistant/tool rounds; `turns` user prompts in all."""
    messages: list[dict] = []
    for _ in range(max(1, turns)):
        messages.append({"role": "user", "content": user_message(rng)})
        for _ in range(rng.randint(1, 6)):
            messages.append({"role": "assistant", "content": assistant_message(rng)})
            if rng.random() < 0.8:
                messages.append({"role": "tool_result", "content": tool_result_message(rng)})
        messages.append({"role": "assistant", "content": assistant_message(rng)})
    for index, message in enumerate(messages):
        message["index"] = index
    return messages


def message_counts(messages: list[dict]) -> dict[str, int]:
    """What the collector stores beside each transcript."""
    counts = {"user": 0, "assistant": 0, "tool_result": 0}
    for message in messages:
        counts[message["role"]] += 1
    return counts
