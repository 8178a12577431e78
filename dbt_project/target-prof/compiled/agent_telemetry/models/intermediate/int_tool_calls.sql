with

calls as (

    select * from "warehouse"."intermediate"."int_agent_calls_unioned"
    where call_date = any(array['2026-12-02', '2026-12-03']::date[])

),

metric_events as (

    select * from "warehouse"."staging"."stg_landing__metric_events"
    -- A metric event's tool calls are at its time, its call on the event's day.
    where ((occurred_at >= '2026-12-02 00:00+00'::timestamptz + interval '0'
             and occurred_at < '2026-12-02 00:00+00'::timestamptz + interval '1 day') or (occurred_at >= '2026-12-03 00:00+00'::timestamptz + interval '0'
             and occurred_at < '2026-12-03 00:00+00'::timestamptz + interval '1 day'))

),

claude_code_tool_calls as (

    select * from "warehouse"."staging"."stg_claude_code__tool_calls"

),

agent_cli_tool_events as (

    select * from "warehouse"."staging"."stg_agent_cli__tool_events"
    where tool_name is not null and ((occurred_at >= '2026-12-02 00:00+00'::timestamptz + interval '0'
             and occurred_at < '2026-12-02 00:00+00'::timestamptz + interval '1 day') or (occurred_at >= '2026-12-03 00:00+00'::timestamptz + interval '0'
             and occurred_at < '2026-12-03 00:00+00'::timestamptz + interval '1 day'))

),

hook_tool_calls as (

    select
        call_id || '#0' as tool_call_id,
        call_id,
        source_system,
        tenant_id,
        session_id,
        agent_name,
        tool_name,
        0 as tool_position,
        decision,
        coalesce(is_success, true) and not is_error as is_success,
        latency_ms,
        occurred_at,
        call_date
    from calls
    where tool_name is not null

),

metric_tool_calls as (

    select
        calls.call_id || '#' || tool_call.position::text as tool_call_id,
        calls.call_id,
        calls.source_system,
        calls.tenant_id,
        calls.session_id,
        calls.agent_name,
        tool_call.entry ->> 'name' as tool_name,
        tool_call.position::integer as tool_position,
        case when tool_call.entry ->> 'status' = 'error' then 'ERROR' else 'SUCCESS' end
            as decision,
        coalesce(tool_call.entry ->> 'status', 'success') <> 'error' as is_success,
        (tool_call.entry ->> 'latencyMs')::integer as latency_ms,
        calls.occurred_at,
        calls.call_date
    from metric_events
    cross join
        lateral jsonb_array_elements(metric_events.tool_calls)
        with ordinality as tool_call (entry, position)
    inner join calls
        on calls.call_id = 'landing_metric:' || metric_events.event_id

),

claude_code_shaped as (

    select
        calls.call_id || '#' || tool_calls.tool_use_id as tool_call_id,
        calls.call_id,
        calls.source_system,
        calls.tenant_id,
        calls.session_id,
        calls.agent_name,
        tool_calls.tool_name,
        row_number() over (
            partition by calls.call_id order by tool_calls.occurred_at, tool_calls.tool_use_id
        )::integer as tool_position,
        case when tool_calls.is_error then 'ERROR' else 'SUCCESS' end as decision,
        not tool_calls.is_error as is_success,
        tool_calls.latency_ms,
        tool_calls.occurred_at,
        calls.call_date
    from claude_code_tool_calls as tool_calls
    inner join calls
        on calls.call_id = 'claude_code:' || tool_calls.response_key

),

-- The other agent CLIs log tool calls apart from their usage: each belongs to its session's
-- latest call at or before it (the first call, for one before any), whatever that call's day;
-- the tool call is dated by its own day, the days this model rebuilds.
agent_cli_session_calls as (

    select
        call_id,
        source_system,
        source_session_id,
        tenant_id,
        session_id,
        agent_name,
        occurred_at
    from "warehouse"."intermediate"."int_agent_calls_unioned"
    where (source_system, source_session_id) in (
            select
                tool_events.agent_cli,
                tool_events.session_id
            from agent_cli_tool_events as tool_events
        )

),

agent_cli_timeline as (

    select
        source_system,
        source_session_id,
        occurred_at,
        call_id,
        null::text as tool_event_key,
        null::text as tool_name,
        null::boolean as is_error,
        null::bigint as duration_ms
    from agent_cli_session_calls
    union all
    select
        agent_cli,
        session_id,
        occurred_at,
        null as call_id,
        tool_event_key,
        tool_name,
        is_error,
        duration_ms
    from agent_cli_tool_events

),

agent_cli_grouped as (

    select
        *,
        count(call_id) over (
            partition by source_system, source_session_id
            order by occurred_at, call_id nulls last
            rows between unbounded preceding and current row
        ) as call_group
    from agent_cli_timeline

),

agent_cli_attached as (

    select
        *,
        coalesce(
            max(call_id) over (partition by source_system, source_session_id, call_group),
            first_value(call_id) over (
                partition by source_system, source_session_id
                order by call_id is null, occurred_at, call_id
            )
        ) as attached_call_id
    from agent_cli_grouped

),

agent_cli_shaped as (

    select
        calls.call_id || '#' || tool_events.tool_event_key as tool_call_id,
        calls.call_id,
        calls.source_system,
        calls.tenant_id,
        calls.session_id,
        calls.agent_name,
        tool_events.tool_name,
        row_number() over (
            partition by calls.call_id
            order by tool_events.occurred_at, tool_events.tool_event_key
        )::integer as tool_position,
        case when tool_events.is_error then 'ERROR' else 'SUCCESS' end as decision,
        not tool_events.is_error as is_success,
        least(tool_events.duration_ms, 2147483647)::integer as latency_ms,
        tool_events.occurred_at,
        (tool_events.occurred_at at time zone 'UTC')::date as call_date
    from agent_cli_attached as tool_events
    inner join agent_cli_session_calls as calls on tool_events.attached_call_id = calls.call_id
    where tool_events.tool_event_key is not null

),

unioned as (

    select * from hook_tool_calls
    union all
    select * from metric_tool_calls
    union all
    select * from claude_code_shaped
    union all
    select * from agent_cli_shaped

),

final as (

    select
        tool_call_id,
        call_id,
        source_system,
        tenant_id,
        session_id,
        agent_name,
        tool_name,
        tool_position,
        decision,
        is_success,
        not is_success as is_error,
        decision = 'DENY' as is_denied,
        latency_ms,
        occurred_at,
        call_date,
        now() as rebuilt_at
    from unioned

)

select * from final