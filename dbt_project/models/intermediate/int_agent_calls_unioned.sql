{#- One row per agent call across sources. Today the collector is the only source; other
    sources are unioned here with the same columns so every mart reads a single grain. -#}
with

collector_events as (

    select * from {{ ref('stg_collector__telemetry_events') }}

),

final as (

    select
        -- ids
        source_system || ':' || event_id::text as call_id,
        source_system,
        tenant_id,
        host_id,
        session_id,

        -- strings
        agent_name,
        hook_name,
        tool_name,
        model_name,
        event_type,
        decision,

        -- numerics
        latency_ms,
        coalesce(prompt_tokens, 0) as prompt_tokens,
        coalesce(completion_tokens, 0) as completion_tokens,
        coalesce(cached_tokens, 0) as cached_tokens,
        coalesce(reasoning_tokens, 0) as reasoning_tokens,
        coalesce(total_tokens, 0) as total_tokens,
        cost_usd,

        -- booleans
        is_success,
        is_llm_call,
        tool_name is not null as is_tool_call,

        -- timestamps
        occurred_at,
        {{ utc('occurred_at') }}::date as occurred_on

    from collector_events

)

select * from final
