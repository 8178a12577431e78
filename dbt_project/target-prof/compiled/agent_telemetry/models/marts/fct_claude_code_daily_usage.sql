with

responses as (

    select * from "warehouse"."intermediate"."int_claude_code_responses_priced"

),

final as (

    select
        (occurred_at at time zone 'UTC')::date as usage_date,
        project,
        model_name,
        'UTC' as report_timezone,
        count(*) as response_count,
        sum(input_tokens) as input_tokens,
        sum(output_tokens) as output_tokens,
        sum(cache_creation_tokens) as cache_creation_tokens,
        sum(cache_creation_5m_tokens) as cache_creation_5m_tokens,
        sum(cache_creation_1h_tokens) as cache_creation_1h_tokens,
        sum(cache_read_tokens) as cache_read_tokens,
        sum(total_tokens) as total_tokens,
        sum(cost_usd) as cost_usd,
        count(*) filter (where not is_priced) as unpriced_response_count
    from responses
    group by 1, 2, 3

)

select * from final