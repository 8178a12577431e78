-- Every mart that counts calls, tool calls or tokens over all data agrees with the calls fact.
-- It reads several models; dagster-dbt shows it as a check of the last one built.
{{ config(meta={'dagster': {'ref': {'name': 'fct_daily_token_trends'}}}) }}
with

calls as (

    select
        count(*) as call_count,
        sum(total_tokens) as total_tokens
    from {{ ref('int_agent_calls_unioned') }}

),

tool_calls as (

    select count(*) as tool_call_count from {{ ref('int_tool_calls') }}

),

totals as (

    -- The daily grain, which keeps every session (the detailed mart only recent ones).
    select
        'fct_sessions_daily' as mart,
        sum(call_count) as call_count,
        sum(total_tokens) as total_tokens,
        sum(tool_call_count) as tool_call_count
    from {{ ref('fct_sessions_daily') }}
    union all
    select
        'fct_daily_token_trends' as mart,
        sum(call_count) as call_count,
        sum(total_tokens) as total_tokens,
        null as tool_call_count
    from {{ ref('fct_daily_token_trends') }}
    union all
    select
        'fct_activity_heatmap' as mart,
        sum(call_count) as call_count,
        sum(total_tokens) as total_tokens,
        null as tool_call_count
    from {{ ref('fct_activity_heatmap') }}
    union all
    select
        'dim_agents' as mart,
        sum(call_count) as call_count,
        sum(total_tokens) as total_tokens,
        null as tool_call_count
    from {{ ref('dim_agents') }}
    union all
    select
        'fct_tool_usage' as mart,
        null as call_count,
        null as total_tokens,
        sum(call_count) as tool_call_count
    from {{ ref('fct_tool_usage') }}
    union all
    select
        'dim_tools' as mart,
        null as call_count,
        null as total_tokens,
        sum(call_count) as tool_call_count
    from {{ ref('dim_tools') }}

)

select
    totals.*,
    calls.call_count as expected_calls,
    calls.total_tokens as expected_tokens,
    tool_calls.tool_call_count as expected_tool_calls
from totals
cross join calls
cross join tool_calls
where (totals.call_count is not null and totals.call_count <> calls.call_count)
    or (totals.total_tokens is not null and totals.total_tokens <> calls.total_tokens)
    or (
        totals.tool_call_count is not null
        and totals.tool_call_count <> tool_calls.tool_call_count
    )
