{{ config(post_hook="{{ create_agent_usage_function() }}") }}
{#- Tokens and calls per agent per UTC calendar month and tenant. -#}
with

calls as (

    select * from {{ ref('int_agent_calls_unioned') }}

),

final as (

    select
        date_trunc('month', occurred_on)::date as usage_month,
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
        sum(cost_usd) as cost_usd
    from calls
    group by 1, 2, 3

)

select * from final
