with

usage as (

    select * from "warehouse"."intermediate"."int_agent_usage_daily"

),

agent_models as (

    select
        agent_name,
        model_name,
        sum(call_count) as call_count
    from usage
    where model_name is not null
    group by agent_name, model_name

),

-- The model most of its calls used, the first by name among equals (as `mode()` picks).
main_models as (

    select distinct on (agent_name)
        agent_name,
        model_name as main_model
    from agent_models
    order by agent_name asc, call_count desc, model_name asc

),

agents as (

    select
        agent_name,
        jsonb_agg(distinct source_system) as source_systems,
        count(distinct tenant_id) as tenant_count,
        sum(call_count)::bigint as call_count,
        sum(llm_call_count)::bigint as llm_call_count,
        sum(error_count)::bigint as error_count,
        sum(total_tokens)::bigint as total_tokens,
        sum(cost_usd) as cost_usd,
        sum(unpriced_llm_call_count)::bigint as unpriced_llm_call_count,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at
    from usage
    group by agent_name

),

final as (

    select
        agents.agent_name,
        agents.source_systems,
        agents.tenant_count,
        agents.call_count,
        agents.llm_call_count,
        agents.error_count,
        agents.total_tokens,
        agents.cost_usd,
        agents.unpriced_llm_call_count,
        main_models.main_model,
        agents.first_seen_at,
        agents.last_seen_at
    from agents
    left join main_models
        on agents.agent_name is not distinct from main_models.agent_name

)

select * from final