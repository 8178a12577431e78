{#- One row per agent name, across sources. -#}
with

calls as (

    select * from {{ ref('int_agent_calls_unioned') }}

),

final as (

    select
        agent_name,
        jsonb_agg(distinct source_system) as source_systems,
        count(distinct tenant_id) as tenant_count,
        count(*) as call_count,
        count(*) filter (where is_llm_call) as llm_call_count,
        count(*) filter (where is_error) as error_count,
        sum(total_tokens) as total_tokens,
        sum(cost_usd) as cost_usd,
        {{ unpriced_llm_calls() }} as unpriced_llm_call_count,
        mode() within group (order by model_name) as main_model,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at
    from calls
    group by agent_name

)

select * from final
