with

tool_calls as (

    select * from "warehouse"."intermediate"."int_tool_calls"

),

-- The sessions with tool calls on the days rebuilt (all of them on a full build); null ids form
-- one session, as in the window below. Read through rows_of_sessions on an incremental build,
-- which the linter, rendering a full one, does not see.
touched_sessions as ( -- noqa: ST03

    select distinct
        source_system,
        session_id
    from tool_calls
    where call_date = any(array['2026-12-01', '2026-12-02', '2026-12-03']::date[])

),

session_calls as (
    select found.*
    from (
        select distinct source_system, session_id from touched_sessions where session_id is not null
    ) as wanted
    cross join lateral (
        select * from "warehouse"."intermediate"."int_tool_calls" as session_rows
        where session_rows.source_system = wanted.source_system
            and session_rows.session_id = wanted.session_id
        offset 0
    ) as found
    union all
    select * from "warehouse"."intermediate"."int_tool_calls"
    where session_id is null
        and source_system in (
            select source_system from touched_sessions where session_id is null
        )

),

-- The up-to-five tool calls ending at each call of its session, oldest first.
recent_tools as (

    select
        source_system,
        session_id,
        occurred_at,
        call_date,
        array_agg(tool_name) over (
            partition by source_system, session_id
            order by occurred_at, tool_position, tool_call_id
            rows between 4 preceding and current row
        ) as window_tools
    from session_calls

),

ngrams as (

    select
        recent_tools.source_system,
        recent_tools.session_id,
        recent_tools.occurred_at,
        recent_tools.call_date,
        lengths.n as sequence_length,
        recent_tools.window_tools[
            cardinality(recent_tools.window_tools) - lengths.n + 1:
            cardinality(recent_tools.window_tools)
        ] as tools
    from recent_tools
    inner join generate_series(2, 5) as lengths (n)
        on cardinality(recent_tools.window_tools) >= lengths.n

),

daily_counts as (

    select
        call_date,
        source_system,
        session_id,
        tools,
        sequence_length,
        count(*) as occurrence_count,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at
    from ngrams
    group by call_date, source_system, session_id, tools, sequence_length

),

-- Every day of a session is built together, so its first day with the n-gram is known here,
-- and the rollup counts sessions without a distinct over all of history.
final as (

    select
        *,
        call_date = min(call_date) over (
            partition by source_system, session_id, tools, sequence_length
        ) as is_session_first_day,
        now() as rebuilt_at
    from daily_counts

)

select * from final
where call_date = any(array['2026-12-01', '2026-12-02', '2026-12-03']::date[])