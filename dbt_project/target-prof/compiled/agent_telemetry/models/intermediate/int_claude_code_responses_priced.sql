with

responses as (

    
    select staging.*
    from (
        select staging.response_key
        from "warehouse"."staging"."stg_claude_code__api_responses" as staging
        where exists (select 1 from _atw_changed_claude_code_messages where whole)
            or exists (select 1 from int_claude_code_responses_priced__repriced_models where whole)
        union
        select staging.response_key
        from "warehouse"."staging"."stg_claude_code__api_responses" as staging
        where staging.message_id = any(array(
        select message_id from _atw_changed_claude_code_messages
        where message_id is not null
    ))
        union
        select staging.response_key
        from "warehouse"."staging"."stg_claude_code__api_responses" as staging
        where staging.response_key = any(array(
        select 'line:' || file_path || ':' || line_number
        from _atw_changed_claude_code_messages
        where message_id is null and file_path is not null
    ))
        union
        select staging.response_key
        from "warehouse"."staging"."stg_claude_code__api_responses" as staging
        where staging.model_name in (select model_name from int_claude_code_responses_priced__repriced_models)
    ) as to_price
    inner join "warehouse"."staging"."stg_claude_code__api_responses" as staging
        on to_price.response_key = staging.response_key

),

costed as (

    select
        *,
        coalesce(logged_cost_usd, priced_cost_usd) as cost_usd,
        coalesce(logged_cost_usd, priced_cost_usd) is not null as is_priced
    from (select
        responses.*,
        prices.valid_from as price_valid_from,
        case
            when responses.logged_cost_usd is not null then 'logged'
            when responses.model_name = '<synthetic>' then 'not billed'
            else prices.price_source
        end as price_source,
        case when responses.model_name = '<synthetic>' then 0 else
        case
        when prices.tier_threshold_tokens is not null and prices.input_above_per_mtok is not null and responses.input_tokens > prices.tier_threshold_tokens
            then (prices.tier_threshold_tokens * prices.input_per_mtok + (responses.input_tokens - prices.tier_threshold_tokens) * prices.input_above_per_mtok) / 1e6
        else responses.input_tokens * prices.input_per_mtok / 1e6
    end
        + case
        when prices.tier_threshold_tokens is not null and prices.output_above_per_mtok is not null and responses.output_tokens > prices.tier_threshold_tokens
            then (prices.tier_threshold_tokens * prices.output_per_mtok + (responses.output_tokens - prices.tier_threshold_tokens) * prices.output_above_per_mtok) / 1e6
        else responses.output_tokens * prices.output_per_mtok / 1e6
    end
        + case
        when prices.tier_threshold_tokens is not null and prices.cache_write_5m_above_per_mtok is not null and responses.cache_creation_5m_tokens > prices.tier_threshold_tokens
            then (prices.tier_threshold_tokens * prices.cache_write_5m_per_mtok + (responses.cache_creation_5m_tokens - prices.tier_threshold_tokens) * prices.cache_write_5m_above_per_mtok) / 1e6
        else responses.cache_creation_5m_tokens * prices.cache_write_5m_per_mtok / 1e6
    end
        + case
        when prices.tier_threshold_tokens is not null and prices.cache_write_1h_above_per_mtok is not null and responses.cache_creation_1h_tokens > prices.tier_threshold_tokens
            then (prices.tier_threshold_tokens * prices.cache_write_1h_per_mtok + (responses.cache_creation_1h_tokens - prices.tier_threshold_tokens) * prices.cache_write_1h_above_per_mtok) / 1e6
        else responses.cache_creation_1h_tokens * prices.cache_write_1h_per_mtok / 1e6
    end
        + case
        when prices.tier_threshold_tokens is not null and prices.cache_read_above_per_mtok is not null and responses.cache_read_tokens > prices.tier_threshold_tokens
            then (prices.tier_threshold_tokens * prices.cache_read_per_mtok + (responses.cache_read_tokens - prices.tier_threshold_tokens) * prices.cache_read_above_per_mtok) / 1e6
        else responses.cache_read_tokens * prices.cache_read_per_mtok / 1e6
    end
        end as priced_cost_usd,
        row_number() over (
            partition by responses.response_key order by prices.valid_from desc
        ) as price_rank
    from responses as responses
    left join "warehouse"."reference"."model_prices" as prices
        on responses.model_name = prices.model_name
        and prices.valid_from <= (responses.occurred_at at time zone 'UTC')::date) as priced
    where price_rank = 1

),

final as (

    select response_key, agent_type, message_id, request_id, session_id, logged_session_id, agent_id, line_uuid, source_system, project, model_name, stop_reason, file_path, client_version, git_branch, input_tokens, output_tokens, cache_creation_tokens, cache_creation_5m_tokens, cache_creation_1h_tokens, cache_read_tokens, total_tokens, copy_count, is_sidechain, occurred_at, loaded_at, working_dir, price_valid_from, cost_usd, is_priced, usage_source, speed, logged_cost_usd, priced_cost_usd, price_source
    from costed

)

select * from final

    where occurred_at >= (select coalesce(max(cutoff), '-infinity'::timestamptz)
     from "warehouse"."raw"."retention_runs")
        and not exists (
            select 1 from "warehouse"."intermediate"."int_claude_code_responses_priced" as kept
            where kept.response_key = final.response_key
                and kept.occurred_at < (select coalesce(max(cutoff), '-infinity'::timestamptz)
     from "warehouse"."raw"."retention_runs")
        )