with

sessions_daily as (

    select * from "warehouse"."marts"."fct_sessions_daily"

),

summed as (

    select
        session_date,
        tenant_id,
        source_system,
        sum(session_count)::bigint as session_count,
        sum(call_count)::bigint as call_count,
        sum(llm_call_count)::bigint as llm_call_count,
        sum(tool_call_count)::bigint as tool_call_count,
        sum(error_count)::bigint as error_count,
        sum(prompt_tokens)::bigint as prompt_tokens,
        sum(completion_tokens)::bigint as completion_tokens,
        sum(cached_tokens)::bigint as cached_tokens,
        sum(cache_creation_tokens)::bigint as cache_creation_tokens,
        sum(total_tokens)::bigint as total_tokens,
        sum(cost_usd) as cost_usd,
        sum(unpriced_llm_call_count)::bigint as unpriced_llm_call_count,
        sum(duration_seconds)::bigint as duration_seconds
    from sessions_daily
    group by session_date, tenant_id, source_system

),

final as (

    select
        md5(session_date::text || '|' || tenant_id || '|' || source_system) as agent_day_key,
        session_date,
        tenant_id,
        source_system,
        session_count,
        call_count,
        llm_call_count,
        tool_call_count,
        error_count,
        prompt_tokens,
        completion_tokens,
        cached_tokens,
        cache_creation_tokens,
        total_tokens,
        cost_usd,
        unpriced_llm_call_count,
        duration_seconds,
        cost_usd / nullif(session_count, 0) as cost_per_session_usd,
        total_tokens::numeric / nullif(session_count, 0) as tokens_per_session,
        error_count::numeric / nullif(call_count, 0) as error_rate
    from summed

)

select * from final