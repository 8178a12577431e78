{#- Claude Code token usage per calendar month, project and model, as ccusage's monthly report
    counts it: by its session rules (int_claude_code_session_responses_priced), which differ from
    its daily report's (fct_claude_code_daily_usage; see the README), in the dbt var
    `report_timezone`. -#}
{%- set timezone = report_timezone() -%}
with

responses as (

    select * from {{ ref('int_claude_code_session_responses_priced') }}

),

final as (

    select
        date_trunc('month', occurred_at at time zone '{{ timezone }}')::date as usage_month,
        project,
        model_name,
        '{{ timezone }}' as report_timezone,
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
