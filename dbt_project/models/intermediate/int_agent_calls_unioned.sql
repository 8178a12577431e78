{#- One row per agent call across sources, each with the same columns, so every mart reads a
    single grain. Duplicates were already removed in staging. -#}
with

collector_events as (

    select * from {{ ref('stg_collector__telemetry_events') }}

),

landed_batch_events as (

    select * from {{ ref('stg_landing__collector_events') }}

),

landed_metric_events as (

    select * from {{ ref('stg_landing__metric_events') }}

),

claude_code_responses as (

    select * from {{ ref('int_claude_code_responses_priced') }}

),

-- Collector events and collector batch files share the collector's columns.
collector_shaped as (
{% for relation in ['collector_events', 'landed_batch_events'] %}
    select
        source_system, event_id::text as source_event_id, tenant_id, host_id, session_id,
        agent_name, hook_name, tool_name, model_name, event_type, decision, latency_ms,
        prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens,
        null::bigint as cache_creation_tokens, null::bigint as cache_creation_5m_tokens,
        null::bigint as cache_creation_1h_tokens, total_tokens,
        cost_usd, is_success, is_llm_call, tool_name is not null as is_tool_call,
        decision_reason as reason_text, null::text as error_class, occurred_at
    from {{ relation }}
    {% if not loop.last %}union all{% endif %}
{% endfor %}
),

metric_shaped as (

    select
        source_system,
        event_id as source_event_id,
        tenant_id,
        null::text as host_id,
        session_id,
        agent_name,
        null::text as hook_name,
        null::text as tool_name,
        model_name,
        metric as event_type,
        case when is_success then 'SUCCESS' else 'ERROR' end as decision,
        latency_ms,
        prompt_tokens,
        completion_tokens,
        null::integer as cached_tokens,
        null::integer as reasoning_tokens,
        null::bigint as cache_creation_tokens,
        null::bigint as cache_creation_5m_tokens,
        null::bigint as cache_creation_1h_tokens,
        total_tokens,
        null::numeric as cost_usd,
        is_success,
        is_llm_call,
        tool_call_count > 0 as is_tool_call,
        error_code as reason_text,
        error_class,
        occurred_at
    from landed_metric_events

),

{#- Claude Code: prompt = uncached input, cached = cache reads; total is all four types, as
    ccusage counts it. Tenant = project; agent = `claude-code` for the main agent,
    `claude-code:<subagent type>` for subagent traffic. -#}
claude_code_shaped as (

    select
        source_system,
        response_key as source_event_id,
        project as tenant_id,
        null::text as host_id,
        session_id,
        case when agent_type = 'main' then 'claude-code'
            else 'claude-code:' || agent_type end as agent_name,
        null::text as hook_name,
        null::text as tool_name,
        model_name,
        'api_response' as event_type,
        'SUCCESS' as decision,
        null::integer as latency_ms,
        input_tokens as prompt_tokens,
        output_tokens as completion_tokens,
        cache_read_tokens as cached_tokens,
        null::integer as reasoning_tokens,
        cache_creation_tokens,
        cache_creation_5m_tokens,
        cache_creation_1h_tokens,
        total_tokens,
        cost_usd,
        true as is_success,
        true as is_llm_call,
        false as is_tool_call,
        null::text as reason_text,
        null::text as error_class,
        occurred_at
    from claude_code_responses

),

unioned as (

    select * from collector_shaped
    union all
    select * from metric_shaped
    union all
    select * from claude_code_shaped

),

final as (

    select
        -- ids
        source_system || ':' || source_event_id as call_id,
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
        -- integer per call, so that sums stay bigint rather than numeric
        coalesce(prompt_tokens, 0)::integer as prompt_tokens,
        coalesce(completion_tokens, 0)::integer as completion_tokens,
        coalesce(cached_tokens, 0)::integer as cached_tokens,
        coalesce(reasoning_tokens, 0)::integer as reasoning_tokens,
        coalesce(cache_creation_tokens, 0)::integer as cache_creation_tokens,
        coalesce(cache_creation_5m_tokens, 0)::integer as cache_creation_5m_tokens,
        coalesce(cache_creation_1h_tokens, 0)::integer as cache_creation_1h_tokens,
        coalesce(total_tokens, 0)::integer as total_tokens,
        cost_usd,

        -- booleans
        is_success,
        is_llm_call,
        is_tool_call,
        -- strings (reason texts were redacted at load)
        reason_text,
        error_class,

        -- timestamps
        occurred_at,
        {{ utc('occurred_at') }}::date as occurred_on

    from unioned

)

select * from final
