"""Incremental builds end where a full refresh ends: after a sequence of loads, a late day, an
edited old day, a deleted day, late rows that change the day next to their own, and a purge,
every mart, every intermediate table and every staging table an incremental run keeps equals
what
`dbt run --full-refresh` builds from the same raw data. The Claude Code staging tables go
by message and tool use: a later copy of a response in another log, a log rewritten without
its Task call or a tool's result, and a removed copy; the priced Claude Code tables by those
messages and by the models whose prices changed; the agent CLI staging table by day (records
gone, moved, and copied into another rollout). The builds have no lookback days (the
project's default): what a late row changes on another day must be followed there."""

import hashlib
from datetime import UTC, datetime, timedelta

from psycopg import sql
from psycopg.types.json import Jsonb

from ingestion.core.connections import connect
from orchestration.defs.dbt.manifest import run_dbt
from tests.conftest import CUTOFF, SAMPLE_END, mart_checksums
from warehouse import retention

# The raw event tables and their event-time columns (retention's list: the purge's own).
EVENT_TABLES = [(table, column) for table, column in retention.EVENT_TABLES]
# The agent CLIs' raw tables, which retention does not purge (their rows are few).
AGENT_CLI_TABLES = [
    (table, sql.Identifier("occurred_at"))
    for table in ("raw.agent_cli_usage", "raw.agent_cli_tool_events")
]
# Incremental tables outside the marts, with their primary key; `rebuilt_at` is when, not what.
INTERMEDIATE = {
    "int_agent_calls_unioned": "call_id",
    "int_calls_daily": "call_date, hour_of_day, tenant_id, source_system, agent_name",
    "int_tool_calls": "tool_call_id",
    "int_tool_sequences_daily": "call_date, source_system, session_id, tools, sequence_length",
    "int_sessions_aggregated": "source_system, session_id",
    "int_sessions_scored": "session_key",
    "int_anomalies": "anomaly_id",
    "int_agent_usage_daily": "call_date, tenant_id, agent_name, source_system, model_name",
    "int_host_usage_daily": "call_date, host_id, tenant_id, source_system, session_id, working_dir",
    "int_host_versions_daily": "call_date, host_id",
    "int_agent_days": "call_date, tenant_id, agent_name",
    "int_tool_usage_daily": "call_date, tool_name, source_system, session_id, agent_name",
    "int_claude_code_responses_priced": "response_key",
    "int_claude_code_session_responses_priced": "response_key",
    "int_agent_cli_usage_priced": "usage_key",
}


# The per-token prices of a model_prices row, below and above its tier threshold.
PRICES = [
    f"{token_type}{tier}_per_mtok"
    for token_type in ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")
    for tier in ("", "_above")
]

# The Claude Code staging tables (incremental by message id and tool use id), with their key.
STAGING = {
    "stg_claude_code__api_responses": "response_key",
    "stg_claude_code__session_responses": "response_key",
    "stg_claude_code__tool_calls": "tool_use_id",
    "stg_agent_cli__usage": "usage_key",
}


def _build(url, *args):
    run_dbt(
        url,
        ["run", "--quiet", "--select", "staging", "intermediate", "marts", *args],
        "target/test-equivalence",
        check=True,
    )


def _state(url) -> dict:
    state = {f"marts.{mart}": sums for mart, sums in mart_checksums(url).items()}
    with connect(url) as conn:
        tables = [("intermediate", t, k) for t, k in INTERMEDIATE.items()]
        for schema, table, key in tables + [("staging", t, k) for t, k in STAGING.items()]:
            columns = [
                column
                for (column,) in conn.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = %s and table_name = %s "
                    "and column_name not in ('rebuilt_at', 'source_loaded_at') "
                    "order by ordinal_position",
                    (schema, table),
                )
            ]
            listed = sql.SQL(", ").join(map(sql.Identifier, columns))
            state[f"{schema}.{table}"] = conn.execute(
                sql.SQL(
                    "select count(*), md5(coalesce(string_agg(t::text, '|' order by {key}), '')) "
                    "from (select {listed} from {table}) as t"
                ).format(key=sql.SQL(key), listed=listed, table=sql.Identifier(schema, table))
            ).fetchone()
    return state


def _raw_columns(
    conn, table: str, excluding: tuple[str, ...], keeping: tuple[str, ...] = ()
) -> sql.Composed:
    """The columns of raw.`table` a test copies rows by: all but the loader's own (`_...`,
    stamped anew, unless `keeping`) and `excluding`, in order."""
    return sql.SQL(", ").join(
        sql.Identifier(column)
        for (column,) in conn.execute(
            "select column_name from information_schema.columns where table_schema = 'raw' "
            "and table_name = %s and (column_name not like '\\_%%' or column_name = any(%s)) "
            "and column_name <> all(%s) order by ordinal_position",
            (table, list(keeping), list(excluding)),
        )
    )


def _fork_days_after_its_parent(conn) -> str:
    """A load: a Codex fork of a rollout of one day, two days after it (a fork resumed later),
    replaying the parent's events. The parent's path. Both after the purge's cutoff: the
    days before it are final."""
    parent, thread = conn.execute(
        "select file_path, thread_id from raw.agent_cli_usage where agent_cli = 'codex' "
        "and thread_id is not null and forked_from_id is null "
        "group by 1, 2 having count(*) >= 2 and min(occurred_at) >= %s "
        "and count(distinct (occurred_at at time zone 'UTC')::date) = 1 order by 1 limit 1",
        (CUTOFF,),
    ).fetchone()
    own = ("file_path", "thread_id", "forked_from_id", "session_id", "occurred_at", "dedup_key")
    listed = _raw_columns(conn, "agent_cli_usage", own, keeping=("_run_id",))
    conn.execute(
        sql.SQL(
            "insert into raw.agent_cli_usage ({own}, {columns}) "
            "select %(fork)s, %(thread)s || '-fork', %(thread)s, session_id || '-fork', "
            "occurred_at + interval '2 days', dedup_key || ':fork', {columns} "
            "from raw.agent_cli_usage where agent_cli = 'codex' and file_path = %(parent)s"
        ).format(own=sql.SQL(", ").join(map(sql.Identifier, own)), columns=listed),
        {
            "fork": ".codex~equivalence/sessions/rollout-fork.jsonl",
            "thread": thread,
            "parent": parent,
        },
    )
    return parent


def _agent_cli_loads(conn) -> tuple[str, str]:
    """Agent CLI records as the loader writes them: a file's records of one day gone (the file
    rewritten), a record moved to the day before (rewritten too), and a Codex event copied into
    a rollout whose path sorts first, which then holds the copy that counts. The keys of the
    copy and of the original, in stg_agent_cli__usage."""
    gone = conn.execute(
        "delete from raw.agent_cli_usage where (agent_cli, file_path, "
        "(occurred_at at time zone 'UTC')::date) = (select agent_cli, file_path, "
        "(occurred_at at time zone 'UTC')::date from raw.agent_cli_usage "
        "where agent_cli = 'gemini_cli' order by file_path, record_key limit 1)"
    ).rowcount
    moved = conn.execute(
        "update raw.agent_cli_usage set occurred_at = occurred_at - interval '1 day' "
        "where (agent_cli, file_path, record_key) = (select agent_cli, file_path, record_key "
        "from raw.agent_cli_usage where agent_cli = 'opencode' order by 1, 2, 3 limit 1)"
    ).rowcount
    listed = _raw_columns(conn, "agent_cli_usage", ("file_path",), keeping=("_run_id",))
    original = conn.execute(
        "select file_path, record_key from raw.agent_cli_usage where agent_cli = 'codex' "
        "and dedup_key is not null and forked_from_id is null and not in_leading_burst "
        "order by file_path, record_key limit 1"
    ).fetchone()
    # Sorts before every rollout's label (`.codex~<digest>/...`), bytewise and by locale.
    copy = ".0-equivalence~0/sessions/rollout-copy.jsonl"
    conn.execute(
        sql.SQL(
            "insert into raw.agent_cli_usage (file_path, {columns}) select %s, {columns} "
            "from raw.agent_cli_usage where agent_cli = 'codex' and file_path = %s "
            "and record_key = %s"
        ).format(columns=listed),
        (copy, *original),
    )
    assert gone > 0 and moved == 1

    def key(path: str) -> str:
        return hashlib.md5(f"codex|{path}|{original[1]}".encode()).hexdigest()

    return key(copy), key(original[0])


def _copy_collector_day(conn, day, to_day, id_offset) -> int:
    """A load: the collector events of `day` again on `to_day`, under new ids."""
    listed = _raw_columns(conn, "collector_events", ("source_id", "created_at"))
    conn.execute("select set_config('atw.run_id', 'equivalence', false)")
    return conn.execute(
        sql.SQL(
            "insert into raw.collector_events (source_id, created_at, {columns}) "
            "select source_id + %s, created_at + (%s::date - %s::date) * interval '1 day', "
            "{columns} from raw.collector_events "
            "where created_at >= %s::date and created_at < %s::date + 1"
        ).format(columns=listed),
        (id_offset, to_day, day, day, day),
    ).rowcount


def _hook_event(conn, source_id, at, working_dir, tool=None, session_id=None) -> None:
    """A load: one hook event of a client process (an id seen once, so a derived session), on
    the sample's first host, in `working_dir`; `session_id` the id it sends (its own)."""
    conn.execute("select set_config('atw.run_id', 'equivalence', false)")
    template = conn.execute(
        "select source_id from raw.collector_events where tool_name is not null "
        "and host_id is not null order by source_id limit 1"
    ).fetchone()[0]
    listed = _raw_columns(
        conn,
        "collector_events",
        ("source_id", "created_at", "session_id", "tool_name", "working_dir"),
    )
    conn.execute(
        sql.SQL(
            "insert into raw.collector_events "
            "(source_id, created_at, session_id, tool_name, working_dir, {columns}) "
            "select %s, %s, %s, %s, %s, {columns} from raw.collector_events "
            "where source_id = %s"
        ).format(columns=listed),
        (source_id, at, session_id or f"process-{source_id}", tool, working_dir, template),
    )


def _tool_events_across_midnight(conn, day) -> None:
    """A load: three hook events of one client process each (ids seen once), on one host and
    directory, minutes apart across the midnight after `day`: one derived session over two
    days, whose tool n-grams on the second day read the first day's tools."""
    midnight = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    for number, (minutes, tool) in enumerate([(-10, "Read"), (-5, "Grep"), (5, "Edit")]):
        _hook_event(
            conn,
            3 * 10**9 + number,
            midnight + timedelta(minutes=minutes),
            "/equivalence",
            tool,
            f"equivalence-process-{number}",
        )


def _tools_on_a_quiet_day(conn, day) -> list[int]:
    """A load: a Read and then an Edit, five minutes apart, of one derived session on `day`, a
    day with no other tool call; their source ids."""
    ids = [4 * 10**9, 4 * 10**9 + 1]
    noon = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    for source_id, minutes, tool in zip(ids, (0, 5), ("Read", "Edit"), strict=True):
        _hook_event(
            conn, source_id, noon + timedelta(minutes=minutes), "/quiet", tool, f"quiet-{source_id}"
        )
    return ids


def _errors(conn, first_id, times) -> list[int]:
    """A load: one erring hook event at each of `times`, of one tenant (the first host's); their
    source ids."""
    ids = list(range(first_id, first_id + len(times)))
    for source_id, at in zip(ids, times, strict=True):
        _hook_event(conn, source_id, at, "/errors", "Bash", f"errors-{source_id}")
    conn.execute(
        "update raw.collector_events set decision = 'ERROR' where source_id = any(%s)", (ids,)
    )
    return ids


def _claude_code_line(conn, **values) -> None:
    """A load: one Claude Code log line, the sample's first assistant line with usage with
    `values` (datetimes included) in place of its columns."""
    overrides = {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in values.items()
    }
    assert (
        conn.execute(
            "insert into raw.claude_code_lines "
            "select (jsonb_populate_record(null::raw.claude_code_lines, to_jsonb(t) || %s "
            "|| jsonb_build_object('_loaded_at', now(), '_run_id', 'equivalence'))).* "
            "from raw.claude_code_lines as t "
            "where usage_countable and usage_source = 'message' and model is not null "
            "order by file_path, line_number limit 1",
            (Jsonb(overrides),),
        ).rowcount
        == 1
    )


def _response(conn, message_id) -> tuple:
    """A response's copies, tokens and agent type as the staging table counts it."""
    return conn.execute(
        "select copy_count, output_tokens, agent_type, file_path "
        "from staging.stg_claude_code__api_responses where message_id = %s",
        (message_id,),
    ).fetchone()


def _seed_priced_costs(conn, model_name=None) -> tuple:
    """The model of most responses the price seed prices (or `model_name`), and each of their
    tokens and cost by response key."""
    model_name = (
        model_name
        or conn.execute(
            "select model_name from intermediate.int_claude_code_responses_priced "
            "where price_source = 'override seed' group by 1 order by count(*) desc, 1 limit 1"
        ).fetchone()[0]
    )
    costs = conn.execute(
        "select response_key, total_tokens, cost_usd "
        "from intermediate.int_claude_code_responses_priced where model_name = %s",
        (model_name,),
    ).fetchall()
    return model_name, {key: (tokens, cost) for key, tokens, cost in costs}


def _tool_call(conn, tool_use_id) -> tuple:
    return conn.execute(
        "select has_result, is_error from staging.stg_claude_code__tool_calls "
        "where tool_use_id = %s",
        (tool_use_id,),
    ).fetchone()


def _midnight(day) -> datetime:
    """The midnight that ends `day`."""
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC)


def _count(conn, table, day) -> int:
    return conn.execute(
        sql.SQL("select count(*) from intermediate.{} where call_date = %s").format(
            sql.Identifier(table)
        ),
        (day,),
    ).fetchone()[0]


def test_an_incremental_sequence_ends_where_a_full_refresh_does(secured_clone):
    url = secured_clone.warehouse
    last_day = SAMPLE_END.date()
    busy_day = last_day - timedelta(days=2)
    with connect(url) as conn:
        # Several loads: a new day after the sample, then a second copy of a busy day onto a
        # day the sample already has (data that arrived late).
        assert _copy_collector_day(conn, busy_day, last_day + timedelta(days=1), 10**9) > 0
        _tool_events_across_midnight(conn, last_day - timedelta(days=4))
        quiet_day = last_day + timedelta(days=3)
        read, edit = _tools_on_a_quiet_day(conn, quiet_day)
        # A derived session's call five minutes after a midnight; a late call before that
        # midnight comes in the next load.
        late_night = last_day + timedelta(days=5)
        _hook_event(conn, 5 * 10**9, _midnight(late_night) + timedelta(minutes=5), "/night")
        # A Claude Code response asking for a tool two minutes before a midnight; the tool's
        # result, after it, comes in the next load.
        tool_night = last_day + timedelta(days=7)
        log = "/equivalence/late-results.jsonl"
        _claude_code_line(
            conn,
            file_path=log,
            line_number=1,
            uuid="equivalence-use",
            message_id="msg_equivalence_use",
            request_id="req_equivalence_use",
            occurred_at=_midnight(tool_night) - timedelta(minutes=2),
            usage_at=None,
            _event_at=_midnight(tool_night) - timedelta(minutes=2),
            tool_uses=[{"type": "tool_use", "id": "toolu_equivalence", "name": "Bash"}],
        )
        # A log whose subagent response comes after a Task call: it is of the Task's type.
        task_at = _midnight(last_day + timedelta(days=13)) - timedelta(hours=3)
        for line_number, values in enumerate(
            [
                dict(
                    uuid="equivalence-task",
                    message_id="msg_equivalence_task",
                    request_id="req_equivalence_task",
                    is_sidechain=False,
                    tool_uses=[
                        {
                            "type": "tool_use",
                            "id": "toolu_equivalence_task",
                            "name": "Task",
                            "subagent_type": "Explore",
                        }
                    ],
                ),
                dict(
                    uuid="equivalence-subagent",
                    message_id="msg_equivalence_subagent",
                    request_id="req_equivalence_subagent",
                    is_sidechain=True,
                    tool_uses=None,
                ),
            ],
            start=1,
        ):
            at = task_at + timedelta(minutes=line_number)
            _claude_code_line(
                conn,
                file_path="/equivalence/subagent.jsonl",
                line_number=line_number,
                usage_source="message",
                usage_at=None,
                tool_results=None,
                occurred_at=at,
                _event_at=at,
                **values,
            )
        # Two error clusters (five errors within ten minutes each), one ending before a
        # midnight, one starting after it. The next load brings errors just after that
        # midnight that join both into one, on the later day only.
        cluster_night = _midnight(last_day + timedelta(days=11))
        _errors(
            conn,
            6 * 10**9,
            [
                cluster_night + timedelta(minutes=m)
                for m in (-15, -13, -8, -7, -6, -5, 8, 9, 10, 11, 12)
            ],
        )
    with connect(url) as conn:
        before_first = conn.execute("select txid_current()").fetchone()[0]
    _build(url)
    with connect(url) as conn:
        # The priced tables price again the new lines' messages, no other row.
        for table in (
            "int_claude_code_responses_priced",
            "int_claude_code_session_responses_priced",
        ):
            written, kept = conn.execute(
                sql.SQL(
                    "select array_agg(message_id order by message_id) filter (where "
                    "xmin::text::bigint > %s), count(*) filter (where xmin::text::bigint < %s) "
                    "from intermediate.{}"
                ).format(sql.Identifier(table)),
                (before_first % 2**32, before_first % 2**32),
            ).fetchone()
            assert written == [
                "msg_equivalence_subagent",
                "msg_equivalence_task",
                "msg_equivalence_use",
            ], (table, written)
            assert kept > 100, (table, kept)
        assert _count(conn, "int_tool_sequences_daily", quiet_day) == 1
        assert _response(conn, "msg_equivalence_subagent")[2] == "Explore"
        assert _response(conn, "msg_equivalence_use")[:2] == (
            1,
            conn.execute(
                "select output_tokens from raw.claude_code_lines where uuid = 'equivalence-use'"
            ).fetchone()[0],
        )
    with connect(url) as conn:
        # A resumed log repeats the tool-asking response with more tokens: that copy counts.
        _claude_code_line(
            conn,
            file_path="/equivalence/resumed.jsonl",
            line_number=1,
            uuid="equivalence-use-copy",
            message_id="msg_equivalence_use",
            request_id="req_equivalence_use",
            is_sidechain=False,
            usage_source="message",
            output_tokens=987_654,
            occurred_at=_midnight(tool_night) - timedelta(minutes=2),
            usage_at=None,
            _event_at=_midnight(tool_night) - timedelta(minutes=2),
            tool_uses=[{"type": "tool_use", "id": "toolu_equivalence", "name": "Bash"}],
            tool_results=None,
        )
        # The subagent's log is rewritten without its Task call: the response is a subagent's
        # of no known type.
        conn.execute(
            "delete from raw.claude_code_lines where file_path = '/equivalence/subagent.jsonl' "
            "and line_number = 1"
        )
        assert _copy_collector_day(conn, busy_day, last_day - timedelta(days=6), 2 * 10**9) > 0
        # An old day edited in place.
        edited = conn.execute(
            "update raw.collector_events set prompt_tokens = prompt_tokens + 7, latency_ms = "
            "latency_ms * 3 where created_at >= %s::date and created_at < %s::date + 1 "
            "and prompt_tokens is not null",
            (last_day - timedelta(days=8), last_day - timedelta(days=8)),
        ).rowcount
        # The first day of the session across midnight: its n-grams on the next day change.
        assert (
            conn.execute(
                "update raw.collector_events set tool_name = 'Write' where source_id = %s",
                (3 * 10**9 + 1,),
            ).rowcount
            == 1
        )
        # The quiet day's Edit names no tool any more: the day keeps a tool call and no n-gram.
        conn.execute(
            "update raw.collector_events set tool_name = null where source_id = %s", (edit,)
        )
        # A table from before `rebuilt_at`: the upgrade adds it in the build that must also
        # clear the quiet day.
        conn.execute("alter table intermediate.int_tool_sequences_daily drop column rebuilt_at")
        # Tables summed before `source_system` was a group column: their first build after the
        # upgrade sums every day again, or the days it did not rebuild would have no source.
        conn.execute("alter table intermediate.int_calls_daily drop column source_system")
        conn.execute("alter table marts.fct_tool_usage drop column source_system")
        conn.execute("alter table marts.fct_tool_sequences drop column source_system")
        # Watermarks from before each model's own horizon was kept beside them.
        conn.execute("alter table intermediate.build_watermarks drop column horizon")
        # The late call: the next day's call joins its session.
        _hook_event(conn, 5 * 10**9 + 1, _midnight(late_night) - timedelta(minutes=5), "/night")
        # The tool's result, on the next day.
        _claude_code_line(
            conn,
            file_path=log,
            line_number=2,
            uuid="equivalence-result",
            line_type="user",
            message_role="user",
            message_id=None,
            request_id=None,
            usage_countable=False,
            occurred_at=_midnight(tool_night) + timedelta(minutes=3),
            usage_at=None,
            _event_at=_midnight(tool_night) + timedelta(minutes=3),
            tool_uses=None,
            tool_results=[
                {"type": "tool_result", "tool_use_id": "toolu_equivalence", "is_error": True}
            ],
        )
        # A progress line just after a midnight relays a subagent's usage from just before it:
        # the response is the earlier day's.
        relay_night = last_day + timedelta(days=9)
        _claude_code_line(
            conn,
            file_path="/equivalence/relayed.jsonl",
            line_number=1,
            uuid="equivalence-progress",
            line_type="progress",
            message_id="msg_equivalence_relayed",
            request_id="req_equivalence_relayed",
            usage_source="progress",
            occurred_at=_midnight(relay_night) + timedelta(minutes=1),
            usage_at=_midnight(relay_night) - timedelta(minutes=1),
            _event_at=_midnight(relay_night) + timedelta(minutes=1),
        )
        bridge = _errors(
            conn, 6 * 10**9 + 100, [cluster_night + timedelta(minutes=m) for m in (0, 3)]
        )
    assert edited > 0
    with connect(url) as conn:
        second_build = conn.execute("select now()").fetchone()[0]
    _build(url)
    with connect(url) as conn:
        # The sessions scored again carry the build's time (their checks read those), the
        # others keep theirs.
        rescored, kept = conn.execute(
            "select count(*) filter (where rebuilt_at >= %s), count(*) filter (where "
            "rebuilt_at < %s) from intermediate.int_sessions_scored",
            (second_build, second_build),
        ).fetchone()
        assert rescored > 0 and kept > rescored, (rescored, kept)
        clusters = conn.execute(
            "select started_at, ended_at, call_count from intermediate.int_anomalies "
            "where anomaly_type = 'error_cluster' and started_at >= %s and started_at < %s",
            (cluster_night - timedelta(hours=1), cluster_night + timedelta(hours=1)),
        ).fetchall()
        assert clusters == [
            (cluster_night - timedelta(minutes=15), cluster_night + timedelta(minutes=12), 13)
        ], clusters
        # The first of those errors goes: the clusters part again (the later day changed).
        conn.execute("delete from raw.collector_events where source_id = %s", (bridge[0],))
    with connect(url) as conn:
        relayed = conn.execute(
            "select call_date from intermediate.int_agent_calls_unioned "
            "where call_id like 'claude_code:msg_equivalence_relayed:%'"
        ).fetchall()
        assert relayed == [(relay_night,)], relayed
        assert _response(conn, "msg_equivalence_use")[:2] == (2, 987_654)
        assert _response(conn, "msg_equivalence_subagent")[2] == "subagent"
        assert _tool_call(conn, "toolu_equivalence") == (True, True)
        # The tool's result goes (its log rewritten without it).
        conn.execute("delete from raw.claude_code_lines where uuid = 'equivalence-result'")
        # The progress line goes (a log rewritten without it): the earlier day loses it.
        conn.execute("delete from raw.claude_code_lines where uuid = 'equivalence-progress'")
    with connect(url) as conn:
        assert _count(conn, "int_tool_calls", quiet_day) == 1
        assert _count(conn, "int_tool_sequences_daily", quiet_day) == 0
        # Nor its Read: the day keeps its calls and no tool call.
        conn.execute(
            "update raw.collector_events set tool_name = null where source_id = %s", (read,)
        )
    # A day deleted from every source.
    deleted_day = last_day - timedelta(days=5)
    with connect(url) as conn:
        gone = sum(
            conn.execute(
                sql.SQL("delete from {} where {} >= %s::date and {} < %s::date + 1").format(
                    sql.Identifier(*table.split(".")), column, column
                ),
                (deleted_day, deleted_day),
            ).rowcount
            for table, column in EVENT_TABLES + AGENT_CLI_TABLES
        )
        assert gone > 0
        fork_parent = _fork_days_after_its_parent(conn)
        # Agent CLI tables from before they were incremental: their first build counts them
        # whole, and the calls fact rebuilds every day they rebuilt.
        conn.execute("alter table staging.stg_agent_cli__usage drop column rebuilt_at")
        conn.execute("alter table intermediate.int_agent_cli_usage_priced drop column rebuilt_at")
        # The price seed is edited for the model of most priced Claude Code responses: those
        # whose tokens did not change cost twice as much.
        repriced_model, repriced_costs = _seed_priced_costs(conn)
        assert (
            conn.execute(
                sql.SQL(
                    "update reference.model_price_overrides set {} where model_name = %s"
                ).format(
                    sql.SQL(", ").join(
                        sql.SQL("{0} = {0} * 2").format(sql.Identifier(price)) for price in PRICES
                    )
                ),
                (repriced_model,),
            ).rowcount
            > 0
        )
        # And an override for Gemini CLI's model: the agent CLI records of it are priced again.
        conn.execute(
            "insert into reference.model_price_overrides (model_name, valid_from, "
            "input_per_mtok, output_per_mtok, cache_read_per_mtok, note) "
            "values ('gemini-2.5-pro', '2020-01-01', 2.5, 20, 0.5, 'equivalence')"
        )
    # The delete commits after the calls fact's build began and before the models after it
    # took their watermarks: a build of those first, then the whole run.
    _build(url, "--exclude", "int_agent_calls_unioned")
    _build(url)
    with connect(url) as conn:
        assert _tool_call(conn, "toolu_equivalence") == (False, False)
        unchanged = [
            (cost, repriced_costs[key][1] * 2)
            for key, (tokens, cost) in _seed_priced_costs(conn, repriced_model)[1].items()
            if repriced_costs.get(key, (None,))[0] == tokens
        ]
        assert len(unchanged) > 10 and all(cost == twice for cost, twice in unchanged)
        assert _response(conn, "msg_equivalence_use")[:2] == (2, 987_654)
        # The resumed copy goes too: the first copy counts again.
        conn.execute("delete from raw.claude_code_lines where uuid = 'equivalence-use-copy'")
        assert (
            conn.execute(
                "select count(*) from intermediate.int_calls_daily where call_date = %s",
                (deleted_day,),
            ).fetchone()[0]
            == 0
        )
        assert _count(conn, "int_tool_calls", quiet_day) == 0
        assert _count(conn, "int_agent_calls_unioned", quiet_day) == 2
        # A purge: everything before the cutoff goes from raw; the models keep those days.
        days = (datetime.now(UTC).date() - CUTOFF.date()).days
        assert sum(cut.rows for cut in retention.purge(conn, "equivalence", days=days)) > 0
        copy_key, original_key = _agent_cli_loads(conn)
    _build(url)
    with connect(url) as conn:
        assert _response(conn, "msg_equivalence_use")[:2] == (
            1,
            conn.execute(
                "select output_tokens from raw.claude_code_lines where uuid = 'equivalence-use'"
            ).fetchone()[0],
        )
        # The original stops counting: its copy (same session) comes first.
        counted = dict(
            conn.execute(
                "select usage_key, array[counts_in_daily, counts_in_session] "
                "from staging.stg_agent_cli__usage where usage_key = any(%s)",
                ([copy_key, original_key],),
            ).fetchall()
        )
        assert counted == {copy_key: [True, True], original_key: [False, False]}
        # The fork's parent rollout goes (archived elsewhere, say), in a build of its own so
        # that nothing else rebuilds the fork's day: its leading events count again there,
        # where raw changed nothing.
        assert (
            conn.execute(
                "delete from raw.agent_cli_usage where agent_cli = 'codex' and thread_id in ("
                "select thread_id from raw.agent_cli_usage where file_path = %s)",
                (fork_parent,),
            ).rowcount
            > 0
        )
    _build(url)

    incremental = _state(url)
    with connect(url) as conn:
        # Both kinds are there to compare: the tripled latencies of the edited day stand out.
        kinds = dict(
            conn.execute(
                "select anomaly_type, count(*) from intermediate.int_anomalies group by 1"
            ).fetchall()
        )
    assert kinds.get("latency_spike", 0) > 0 and kinds.get("error_cluster", 0) > 0, kinds
    _build(url, "--full-refresh")
    assert _state(url) == incremental
