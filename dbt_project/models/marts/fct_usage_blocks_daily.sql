{#- Claude Code billing blocks per UTC day of their start, for every day: fct_usage_blocks
    keeps only the blocks after the downsample cutoff, this keeps their daily totals. -#}
with

blocks as (

    select * from {{ ref('int_usage_blocks') }}

),

final as (

    select
        -- ids
        {{ utc('block_start_at') }}::date as block_date,

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
