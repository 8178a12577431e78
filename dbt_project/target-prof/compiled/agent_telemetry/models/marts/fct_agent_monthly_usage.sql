with

calls_daily as (

    select * from "warehouse"."intermediate"."int_calls_daily"

),

final as (

    select
        date_trunc('month', call_date)::date as usage_month,
        tenant_id,
        source_system,
        agent_name,
        sum(call_count)::bigint as call_count,
        sum(llm_call_count)::bigint as llm_call_count,
        
        sum(prompt_tokens)::bigint as prompt_tokens,
        sum(completion_tokens)::bigint as completion_tokens,
        sum(cached_tokens)::bigint as cached_tokens,
        sum(reasoning_tokens)::bigint as reasoning_tokens,
        sum(cache_creation_5m_tokens)::bigint as cache_creation_5m_tokens,
        sum(cache_creation_1h_tokens)::bigint as cache_creation_1h_tokens,
        sum(total_tokens)::bigint as total_tokens,
        sum(cost_usd) as cost_usd,
        sum(unpriced_llm_call_count)::bigint as unpriced_llm_call_count
    from calls_daily
    group by 1, 2, 3, 4

)

select * from final