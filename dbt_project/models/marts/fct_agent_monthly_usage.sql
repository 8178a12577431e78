{{ config(post_hook="{{ create_agent_usage_function() }}") }}
{#- Tokens and calls per agent per UTC calendar month and tenant. -#}
with

calls as (

    select * from {{ ref('int_agent_calls_unioned') }}

),

final as (

    select
        date_trunc('month', call_date)::date as usage_month,
        tenant_id,
        agent_name,
        count(*) as call_count,
        count(*) filter (where is_llm_call) as llm_call_count,
        {{ sum_token_types() }}
        sum(cost_usd) as cost_usd,
        {{ unpriced_llm_calls() }} as unpriced_llm_call_count
    from calls
    group by 1, 2, 3

)

select * from final
