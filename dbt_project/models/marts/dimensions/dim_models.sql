{#- One row per model name seen in calls, with its provider and the price in force now. -#}
with

calls as (

    select * from {{ ref('int_agent_calls_unioned') }}

),

model_prices as (

    select * from {{ ref('model_prices') }}

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
        count(*) as call_count,
        sum(prompt_tokens) as prompt_tokens,
        sum(completion_tokens) as completion_tokens,
        sum(total_tokens) as total_tokens,
        sum(cost_usd) as cost_usd,
        count(*) filter (where cost_basis = 'reported') as reported_cost_call_count,
        count(*) filter (where cost_basis = 'priced') as priced_cost_call_count,
        count(*) filter (where cost_usd is null) as unpriced_call_count,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at
    from calls
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
