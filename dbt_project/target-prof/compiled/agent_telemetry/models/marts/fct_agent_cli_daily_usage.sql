with

usage as (

    select * from "warehouse"."intermediate"."int_agent_cli_usage_priced"
    where counts_in_daily

),

final as (

    select
        md5(
            (occurred_at at time zone 'UTC')::date || '|' || agent_cli || '|'
            || coalesce(model_name, '')
        ) as daily_usage_key,
        (occurred_at at time zone 'UTC')::date as usage_date,
        agent_cli,
        model_name,
        'UTC' as report_timezone,
        sum(input_tokens)::bigint as input_tokens,
        sum(output_tokens)::bigint as output_tokens,
        sum(cache_creation_tokens)::bigint as cache_creation_tokens,
        sum(cache_read_tokens)::bigint as cache_read_tokens,
        sum(reasoning_tokens)::bigint as reasoning_tokens,
        sum(extra_output_tokens)::bigint as extra_output_tokens,
        sum(total_tokens)::bigint as total_tokens,
        sum(request_count)::bigint as request_count,
        count(*) as usage_records,
        sum(cost_usd) as cost_usd,
        sum(logged_cost_usd) as logged_cost_usd,
        count(*) filter (where not is_priced) as unpriced_records
    from usage
    group by 2, 3, 4

)

select * from final