with

tool_calls as (

    select * from "warehouse"."intermediate"."int_tool_calls"
    where call_date = any(array['2026-12-02', '2026-12-03']::date[])

),

final as (

    select
        -- ids
        call_date as usage_date,
        tenant_id,
        tool_name,

        -- numerics
        count(*) as call_count,
        count(*) filter (where is_success) as success_count,
        count(*) filter (where is_error) as error_count,
        count(*) filter (where is_denied) as denied_count,
        count(distinct session_id) as session_count,
        count(distinct agent_name) as agent_count,
        round(avg(is_success::integer)::numeric, 6) as success_rate,
        coalesce(sum(latency_ms), 0) as total_time_ms,
        round(avg(latency_ms)::numeric, 3) as avg_time_ms,
        round((percentile_cont(0.95) within group (order by latency_ms))::numeric, 3)
            as p95_time_ms,

        -- Last: where a table built before it got it in place (pre-hook), so both shapes match.
        source_system

    from tool_calls
    group by call_date, tenant_id, source_system, tool_name

)

select * from final