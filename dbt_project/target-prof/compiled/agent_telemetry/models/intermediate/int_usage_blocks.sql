with recursive

-- Inlined where it is read, not materialized (it is read twice): each step of the walk then
-- finds the next response through the sequence_number index instead of scanning every response.
sequenced as not materialized (

    select * from "warehouse"."intermediate"."int_claude_code_responses_sequenced"

),

walk as (

    select
        sequence_number,
        occurred_at,
        date_trunc('hour', occurred_at at time zone 'UTC') at time zone 'UTC' as block_start_at
    from sequenced
    where sequence_number = 1

    union all

    select
        next_response.sequence_number,
        next_response.occurred_at,
        case
            when next_response.occurred_at - walk.block_start_at > interval '5 hours'
                or next_response.occurred_at - walk.occurred_at > interval '5 hours'
                then date_trunc('hour', next_response.occurred_at at time zone 'UTC')
                    at time zone 'UTC'
            else walk.block_start_at
        end as block_start_at
    from walk
    inner join sequenced as next_response
        on next_response.sequence_number = walk.sequence_number + 1

),

blocks as (

    select
        walk.block_start_at,
        count(*) as response_count,
        max(sequenced.occurred_at) as last_activity_at,
        min(sequenced.occurred_at) as first_activity_at,
        sum(sequenced.input_tokens) as input_tokens,
        sum(sequenced.output_tokens) as output_tokens,
        sum(sequenced.cache_creation_tokens) as cache_creation_tokens,
        sum(sequenced.cache_read_tokens) as cache_read_tokens,
        sum(sequenced.total_tokens) as total_tokens,
        sum(sequenced.cost_usd) as cost_usd,
        count(*) filter (where true and sequenced.cost_usd is null) as unpriced_response_count,
        string_agg(distinct sequenced.model_name, ',' order by sequenced.model_name) as models
    from walk
    inner join sequenced using (sequence_number)
    group by walk.block_start_at

),

final as (

    select
        block_start_at,
        block_start_at + interval '5 hours' as block_end_at,
        first_activity_at,
        last_activity_at,
        models,
        response_count,
        input_tokens,
        output_tokens,
        cache_creation_tokens,
        cache_read_tokens,
        total_tokens,
        cost_usd,
        unpriced_response_count,
        extract(epoch from block_start_at - lag(last_activity_at) over (
            order by block_start_at
        ))::numeric as idle_before_seconds
    from blocks

)

select * from final