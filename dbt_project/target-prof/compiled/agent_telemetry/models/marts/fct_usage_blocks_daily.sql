with

blocks as (

    select * from "warehouse"."intermediate"."int_usage_blocks"

),

final as (

    select
        -- ids
        (block_start_at at time zone 'UTC')::date as block_date,

        -- numerics
        count(*) as block_count,
        sum(response_count) as response_count,
        sum(input_tokens) as input_tokens,
        sum(output_tokens) as output_tokens,
        sum(cache_creation_tokens) as cache_creation_tokens,
        sum(cache_read_tokens) as cache_read_tokens,
        sum(total_tokens) as total_tokens,
        sum(cost_usd) as cost_usd,
        sum(unpriced_response_count) as unpriced_response_count,
        sum(extract(epoch from last_activity_at - first_activity_at))::numeric
            as active_seconds,
        max(total_tokens) as max_block_tokens

    from blocks
    group by 1

)

select * from final