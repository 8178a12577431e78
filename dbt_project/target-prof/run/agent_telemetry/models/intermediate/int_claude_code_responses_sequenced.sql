
  
    

  create  table "warehouse"."intermediate"."int_claude_code_responses_sequenced__dbt_tmp"
  
  
    as
  
  (
    with

responses as (

    select * from "warehouse"."intermediate"."int_claude_code_session_responses_priced"

),

final as (

    select
        row_number() over (order by occurred_at, response_key) as sequence_number,
        response_key,
        model_name,
        occurred_at,
        input_tokens,
        output_tokens,
        cache_creation_tokens,
        cache_read_tokens,
        total_tokens,
        cost_usd
    from responses

)

select * from final
  );
  