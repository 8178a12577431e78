{{ config(post_hook="{{ create_agent_usage_function() }}") }}
{#- Tokens and calls per agent per UTC calendar month, tenant and source. -#}
with

calls_daily as (

    select * from {{ ref('int_calls_daily') }}

),

final as (

    select
        date_trunc('month', call_date)::date as usage_month,
        tenant_id,
        source_system,
        agent_name,
        sum(call_count)::bigint as call_count,
        sum(llm_call_count)::bigint as llm_call_count,
        {{ resum_token_types() }}
        sum(cost_usd) as cost_usd,
        sum(unpriced_llm_call_count)::bigint as unpriced_llm_call_count
    from calls_daily
    group by 1, 2, 3, 4

)

select * from final
