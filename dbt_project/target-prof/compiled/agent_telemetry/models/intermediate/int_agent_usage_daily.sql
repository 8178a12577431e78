with

calls as (

    select * from "warehouse"."intermediate"."int_agent_calls_unioned"
    where call_date = any(array['2026-12-02', '2026-12-03']::date[])

),

final as (

    select
        call_date,
        tenant_id,
        agent_name,
        source_system,
        model_name,
        min(model_provider) as model_provider,
        count(*) as call_count,
        count(*) filter (where is_llm_call) as llm_call_count,
        count(*) filter (where is_error) as error_count,
        sum(prompt_tokens) as prompt_tokens,
        sum(completion_tokens) as completion_tokens,
        sum(total_tokens) as total_tokens,
        sum(cost_usd) as cost_usd,
        count(*) filter (where is_llm_call and cost_usd is null) as unpriced_llm_call_count,
        count(*) filter (where cost_basis = 'reported') as reported_cost_call_count,
        count(*) filter (where cost_basis = 'priced') as priced_cost_call_count,
        count(*) filter (where cost_usd is null) as unpriced_call_count,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        now() as rebuilt_at
    from calls
    group by call_date, tenant_id, agent_name, source_system, model_name

)

select * from final