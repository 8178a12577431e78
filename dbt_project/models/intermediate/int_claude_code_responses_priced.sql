{#- Each Claude Code API response with its cost from the price row in force when it ran. -#}
with

responses as (

    select * from {{ ref('stg_claude_code__api_responses') }}

),

prices as (

    select * from {{ ref('model_prices') }}

),

priced as (

    select
        responses.*,
        prices.valid_from as price_valid_from,
        prices.price_source,
        -- `<synthetic>` marks a message Claude Code wrote itself: no API call, nothing billed.
        case when responses.model_name = '<synthetic>' then 0 else
        {{ tiered_cost('responses.input_tokens', 'prices.input_per_mtok',
                       'prices.input_above_per_mtok', 'prices.tier_threshold_tokens') }}
        + {{ tiered_cost('responses.output_tokens', 'prices.output_per_mtok',
                         'prices.output_above_per_mtok', 'prices.tier_threshold_tokens') }}
        + {{ tiered_cost('responses.cache_creation_5m_tokens', 'prices.cache_write_5m_per_mtok',
                         'prices.cache_write_5m_above_per_mtok',
                         'prices.tier_threshold_tokens') }}
        + {{ tiered_cost('responses.cache_creation_1h_tokens', 'prices.cache_write_1h_per_mtok',
                         'prices.cache_write_1h_above_per_mtok',
                         'prices.tier_threshold_tokens') }}
        + {{ tiered_cost('responses.cache_read_tokens', 'prices.cache_read_per_mtok',
                         'prices.cache_read_above_per_mtok', 'prices.tier_threshold_tokens') }}
        end as cost_usd,
        row_number() over (
            partition by responses.response_key order by prices.valid_from desc
        ) as price_rank
    from responses
    left join prices
        on responses.model_name = prices.model_name
        and prices.valid_from <= {{ utc('responses.occurred_at') }}::date

),

final as (

    select
        response_key,
        agent_type,
        message_id,
        request_id,
        session_id,
        logged_session_id,
        agent_id,
        line_uuid,
        source_system,
        project,
        model_name,
        stop_reason,
        file_path,
        client_version,
        git_branch,
        input_tokens,
        output_tokens,
        cache_creation_tokens,
        cache_creation_5m_tokens,
        cache_creation_1h_tokens,
        cache_read_tokens,
        total_tokens,
        copy_count,
        is_sidechain,
        occurred_at,
        loaded_at,
        working_dir,
        price_valid_from,
        price_source,
        cost_usd,
        cost_usd is not null as is_priced
    from priced
    where price_rank = 1

)

select * from final
{{ keep_rows_before_retention_horizon('occurred_at', 'response_key') }}
