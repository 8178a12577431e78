with

tool_calls as (

    select * from "warehouse"."intermediate"."int_tool_calls"
    where call_date = any(array['2026-12-02', '2026-12-03']::date[])

),

final as (

    select
        call_date,
        tool_name,
        source_system,
        session_id,
        agent_name,
        count(*) as call_count,
        count(*) filter (where is_error) as error_count,
        count(*) filter (where is_denied) as denied_count,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        now() as rebuilt_at
    from tool_calls
    group by call_date, tool_name, source_system, session_id, agent_name

)

select * from final