with

calls as (

    select * from "warehouse"."intermediate"."int_agent_calls_unioned"
    where call_date = any(array['2026-12-02', '2026-12-03']::date[])

),

final as (

    select
        call_date,
        extract(hour from (occurred_at at time zone 'UTC'))::integer as hour_of_day,
        tenant_id,
        agent_name,
        count(*) as call_count,
        count(*) filter (where is_llm_call) as llm_call_count,
        
        sum(prompt_tokens) as prompt_tokens,
        sum(completion_tokens) as completion_tokens,
        sum(cached_tokens) as cached_tokens,
        sum(reasoning_tokens) as reasoning_tokens,
        sum(cache_creation_5m_tokens) as cache_creation_5m_tokens,
        sum(cache_creation_1h_tokens) as cache_creation_1h_tokens,
        sum(total_tokens) as total_tokens,
        sum(cost_usd) as cost_usd,
        count(*) filter (where is_llm_call and cost_usd is null) as unpriced_llm_call_count,
        -- Last: where a table built before it got it in place (pre-hook), so both shapes match.
        source_system
    from calls
    group by call_date, hour_of_day, tenant_id, agent_name, source_system

)

select * from final