
  
    

  create  table "warehouse"."marts"."fct_claude_code_sessions__dbt_tmp"
  
  
    as
  
  (
    with

responses as (

    select * from "warehouse"."intermediate"."int_claude_code_session_responses_priced"

),

final as (

    select
        -- ids
        project,
        session_id,

        -- strings
        string_agg(distinct model_name, ',' order by model_name)
        filter (where model_name <> '<synthetic>') as models,

        -- numerics
        count(*) as response_count,
        sum(input_tokens) as input_tokens,
        sum(output_tokens) as output_tokens,
        sum(cache_creation_tokens) as cache_creation_tokens,
        sum(cache_creation_5m_tokens) as cache_creation_5m_tokens,
        sum(cache_creation_1h_tokens) as cache_creation_1h_tokens,
        sum(cache_read_tokens) as cache_read_tokens,
        sum(total_tokens) as total_tokens,
        sum(cost_usd) as cost_usd,
        count(*) filter (where not is_priced) as unpriced_response_count,

        -- timestamps
        min(occurred_at) as first_activity_at,
        max(occurred_at) as last_activity_at

    from responses
    group by project, session_id
    having sum(total_tokens) > 0

)

select * from final
  );
  