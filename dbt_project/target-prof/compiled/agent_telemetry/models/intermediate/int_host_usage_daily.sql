with

calls as (

    select * from "warehouse"."intermediate"."int_agent_calls_unioned"
    where host_id is not null and call_date = any(array['2026-12-02', '2026-12-03']::date[])

),

final as (

    select
        call_date,
        host_id,
        tenant_id,
        source_system,
        session_id,
        working_dir,
        count(*) as call_count,
        bool_or(is_session_derived) as has_derived_sessions,
        sum(total_tokens) as total_tokens,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        now() as rebuilt_at
    from calls
    group by call_date, host_id, tenant_id, source_system, session_id, working_dir

)

select * from final