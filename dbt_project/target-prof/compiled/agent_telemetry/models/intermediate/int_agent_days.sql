with

calls as (

    select * from "warehouse"."intermediate"."int_agent_calls_unioned"
    where call_date = any(array['2026-12-02', '2026-12-03']::date[])

),

final as (

    select
        call_date,
        tenant_id,
        agent_name,
        count(*) as call_count,
        count(*) filter (where is_error) as error_count,
        count(latency_ms) as timed_call_count,
        percentile_cont(0.95) within group (order by latency_ms) as p95_latency_ms,
        now() as rebuilt_at
    from calls
    group by call_date, tenant_id, agent_name

)

select * from final