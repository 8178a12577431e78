with

usage as (

    select * from "warehouse"."intermediate"."int_agent_cli_usage_priced"
    where counts_in_session

),

final as (

    select
        md5(agent_cli || '|' || session_id) as agent_cli_session_key,
        agent_cli,
        session_id,
        min(project) as project,
        string_agg(distinct model_name, ', ' order by model_name) as models_used,
        sum(input_tokens)::bigint as input_tokens,
        sum(output_tokens)::bigint as output_tokens,
        sum(cache_creation_tokens)::bigint as cache_creation_tokens,
        sum(cache_read_tokens)::bigint as cache_read_tokens,
        sum(reasoning_tokens)::bigint as reasoning_tokens,
        sum(extra_output_tokens)::bigint as extra_output_tokens,
        sum(total_tokens)::bigint as total_tokens,
        sum(request_count)::bigint as request_count,
        count(*) as usage_records,
        sum(cost_usd) as cost_usd,
        sum(logged_cost_usd) as logged_cost_usd,
        count(*) filter (where not is_priced) as unpriced_records,
        min(occurred_at) as first_activity_at,
        max(occurred_at) as last_activity_at
    from usage
    group by agent_cli, session_id

)

select * from final