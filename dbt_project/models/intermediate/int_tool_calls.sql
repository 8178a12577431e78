{#- One row per tool call: collector hook events that name a tool, each entry of a metric
    event's toolCalls array (in array order, at the event's time), and each tool_use block of
    the Claude Code logs (belonging to the API response that asked for it). -#}
with

calls as (

    select * from {{ ref('int_agent_calls_unioned') }}

),

metric_events as (

    select * from {{ ref('stg_landing__metric_events') }}

),

claude_code_tool_calls as (

    select * from {{ ref('stg_claude_code__tool_calls') }}

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

unioned as (

    select * from hook_tool_calls
    union all
    select * from metric_tool_calls
    union all
    select * from claude_code_shaped

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
        call_date
    from unioned

)

select * from final
{{ keep_rows_before_retention_horizon('occurred_at', 'tool_call_id') }}
