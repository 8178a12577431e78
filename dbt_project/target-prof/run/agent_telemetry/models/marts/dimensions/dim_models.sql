
  
    

  create  table "warehouse"."marts"."dim_models__dbt_tmp"
  
  
    as
  
  (
    with

usage as (

    select * from "warehouse"."intermediate"."int_agent_usage_daily"

),

model_prices as (

    select * from "warehouse"."reference"."model_prices"

),

current_prices as (

    select distinct on (model_name) *
    from model_prices
    where valid_from <= (now() at time zone 'UTC')::date
    order by model_name asc, valid_from desc

),

model_calls as (

    select
        model_name,
        min(model_provider) as provider,
        sum(call_count)::bigint as call_count,
        sum(prompt_tokens)::bigint as prompt_tokens,
        sum(completion_tokens)::bigint as completion_tokens,
        sum(total_tokens)::bigint as total_tokens,
        sum(cost_usd) as cost_usd,
        sum(reported_cost_call_count)::bigint as reported_cost_call_count,
        sum(priced_cost_call_count)::bigint as priced_cost_call_count,
        sum(unpriced_call_count)::bigint as unpriced_call_count,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at
    from usage
    where model_name is not null
    group by model_name

),

final as (

    select
        model_calls.*,
        current_prices.input_per_mtok,
        current_prices.output_per_mtok,
        current_prices.cache_read_per_mtok,
        current_prices.model_name is not null as has_price
    from model_calls
    left join current_prices
        on model_calls.model_name = current_prices.model_name

)

select * from final
  );
  