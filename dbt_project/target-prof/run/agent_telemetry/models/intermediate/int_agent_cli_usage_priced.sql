
  
    

  create  table "warehouse"."intermediate"."int_agent_cli_usage_priced__dbt_tmp"
  
  
    as
  
  (
    with

usage as (

    select * from "warehouse"."staging"."stg_agent_cli__usage"

),

model_prices as (

    select * from "warehouse"."reference"."model_prices"

),

price_rows as (

    select
        usage.*,
        prices.valid_from as price_valid_from,
        case when usage.logged_cost_usd is not null then 'logged' else prices.price_source end
            as price_source,
        case
            when usage.tier_rule = 'whole'
                then (
                    case
                        when prices.tier_threshold_tokens is not null
                            and usage.tier_basis_tokens > prices.tier_threshold_tokens
                            then usage.input_tokens
                                * coalesce(prices.input_above_per_mtok, prices.input_per_mtok)
                                + (usage.output_tokens + usage.extra_output_tokens)
                                * coalesce(prices.output_above_per_mtok, prices.output_per_mtok)
                                + usage.cache_read_tokens * coalesce(
                                    prices.cache_read_above_per_mtok, prices.cache_read_per_mtok, 0
                                )
                                + usage.cache_creation_tokens * coalesce(
                                    prices.cache_write_5m_above_per_mtok,
                                    prices.cache_write_5m_per_mtok,
                                    0
                                )
                        else usage.input_tokens * prices.input_per_mtok
                            + (usage.output_tokens + usage.extra_output_tokens)
                            * prices.output_per_mtok
                            + usage.cache_read_tokens * coalesce(prices.cache_read_per_mtok, 0)
                            + usage.cache_creation_tokens
                            * coalesce(prices.cache_write_5m_per_mtok, 0)
                    end
                ) / 1e6
            else
                case
        when prices.tier_threshold_tokens is not null and prices.input_above_per_mtok is not null and usage.input_tokens > prices.tier_threshold_tokens
            then (prices.tier_threshold_tokens * prices.input_per_mtok + (usage.input_tokens - prices.tier_threshold_tokens) * prices.input_above_per_mtok) / 1e6
        else usage.input_tokens * prices.input_per_mtok / 1e6
    end
                + case
        when prices.tier_threshold_tokens is not null and prices.output_above_per_mtok is not null and (usage.output_tokens + usage.extra_output_tokens) > prices.tier_threshold_tokens
            then (prices.tier_threshold_tokens * prices.output_per_mtok + ((usage.output_tokens + usage.extra_output_tokens) - prices.tier_threshold_tokens) * prices.output_above_per_mtok) / 1e6
        else (usage.output_tokens + usage.extra_output_tokens) * prices.output_per_mtok / 1e6
    end
                + case
        when prices.tier_threshold_tokens is not null and prices.cache_read_above_per_mtok is not null and usage.cache_read_tokens > prices.tier_threshold_tokens
            then (prices.tier_threshold_tokens * coalesce(prices.cache_read_per_mtok, 0) + (usage.cache_read_tokens - prices.tier_threshold_tokens) * prices.cache_read_above_per_mtok) / 1e6
        else usage.cache_read_tokens * coalesce(prices.cache_read_per_mtok, 0) / 1e6
    end
                + case
        when prices.tier_threshold_tokens is not null and prices.cache_write_5m_above_per_mtok is not null and usage.cache_creation_tokens > prices.tier_threshold_tokens
            then (prices.tier_threshold_tokens * coalesce(prices.cache_write_5m_per_mtok, 0) + (usage.cache_creation_tokens - prices.tier_threshold_tokens) * prices.cache_write_5m_above_per_mtok) / 1e6
        else usage.cache_creation_tokens * coalesce(prices.cache_write_5m_per_mtok, 0) / 1e6
    end
        end as priced_cost_usd,
        row_number() over (
            partition by usage.usage_key order by prices.valid_from desc
        ) as price_rank
    from usage
    left join model_prices as prices
        on usage.model_name = prices.model_name
            and prices.valid_from <= (usage.occurred_at at time zone 'UTC')::date

),

final as (

    select
        usage_key,
        agent_cli,
        file_path,
        record_key,
        record_kind,
        session_id,
        thread_id,
        forked_from_id,
        message_id,
        response_id,
        trace_id,
        project,
        model_name,
        provider,
        tier_rule,
        price_source,
        record_index,
        usage_ordinal,
        input_tokens,
        output_tokens,
        cache_read_tokens,
        cache_creation_tokens,
        reasoning_tokens,
        extra_output_tokens,
        total_tokens,
        tier_basis_tokens,
        request_count,
        logged_cost_usd,
        round(priced_cost_usd::numeric, 10) as priced_cost_usd,
        coalesce(logged_cost_usd, round(priced_cost_usd::numeric, 10)) as cost_usd,
        is_fallback_model,
        is_replayed,
        counts_in_daily,
        counts_in_session,
        coalesce(logged_cost_usd, priced_cost_usd) is not null as is_priced,
        price_valid_from,
        occurred_at,
        loaded_at
    from price_rows
    where price_rank = 1

)

select * from final
  );
  