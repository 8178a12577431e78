-- Every mart that counts calls, tool calls or tokens over all data agrees with the calls fact.
-- It reads several models; dagster-dbt shows it as a check of the last one built.
-- The facts are compared per UTC day and source with the day-grained marts that sum them
-- (fct_daily_token_trends, fct_tool_usage): every day of any of them when the test reads every
-- row (a first run, the weekly full validation, by hand), else the days whose calls or tool
-- calls were rebuilt, or that the fact dropped, since the tests last passed
-- (macros/test_window.sql), through the facts' rebuilt_at indexes: counting every call of
-- history was a nightly's largest growing cost.
-- The days go in as an array, so that the facts are read through their call_date indexes.
-- The other marts are small: their totals are compared with those two marts' over all data.
{{ config(meta={'dagster': {'ref': {'name': 'fct_daily_token_trends'}}}) }}
{%- set since = tests_passed_from() -%}
with

changed_days (call_date) as (

    {% if since is none -%}
        select distinct call_date from {{ ref('int_agent_calls_unioned') }}
        union
        select distinct call_date from {{ ref('int_tool_calls') }}
        union
        select usage_date from {{ ref('fct_daily_token_trends') }}
        union
        select usage_date from {{ ref('fct_tool_usage') }}
    {%- else -%}
        -- The fact's rebuilt days, the days it dropped (a day that lost every call keeps no
        -- row to stamp) and the days raw lost (a full refresh logs nothing).
        {{ changed_call_days(ref('int_agent_calls_unioned'), since) }}
        union
        select distinct call_date from {{ ref('int_tool_calls') }}
        where rebuilt_at >= {{ since }}
    {%- endif %}

),

calls as (

    select
        calls.call_date,
        calls.source_system,
        count(*) as call_count,
        sum(calls.total_tokens) as total_tokens
    from {{ ref('int_agent_calls_unioned') }} as calls
    where calls.call_date = any(array(select changed_days.call_date from changed_days))
    group by calls.call_date, calls.source_system

),

tool_calls as (

    select
        tool_calls.call_date,
        tool_calls.source_system,
        count(*) as tool_call_count
    from {{ ref('int_tool_calls') }} as tool_calls
    where tool_calls.call_date = any(array(select changed_days.call_date from changed_days))
    group by tool_calls.call_date, tool_calls.source_system

),

trends as (

    select
        usage_date as call_date,
        source_system,
        sum(call_count) as call_count,
        sum(total_tokens) as total_tokens
    from {{ ref('fct_daily_token_trends') }}
    where usage_date = any(array(select changed_days.call_date from changed_days))
    group by usage_date, source_system

),

tool_usage as (

    select
        usage_date as call_date,
        source_system,
        sum(call_count) as tool_call_count
    from {{ ref('fct_tool_usage') }}
    where usage_date = any(array(select changed_days.call_date from changed_days))
    group by usage_date, source_system

),

-- Every day and source any side has on the days compared (a day none has is 0 = 0).
day_sources as (

    select
        call_date,
        source_system
    from calls
    union
    select
        call_date,
        source_system
    from tool_calls
    union
    select
        call_date,
        source_system
    from trends
    union
    select
        call_date,
        source_system
    from tool_usage

),

-- The day-grained marts against the facts, per day and source: a source's calls counted
-- under another's is a mismatch too.
daily_mismatches as (

    select
        'fct_daily_token_trends, fct_tool_usage on ' || day_sources.call_date
        || ' for ' || coalesce(day_sources.source_system, 'no source') as mart,
        coalesce(trends.call_count, 0) as call_count,
        coalesce(trends.total_tokens, 0) as total_tokens,
        coalesce(tool_usage.tool_call_count, 0) as tool_call_count,
        coalesce(calls.call_count, 0) as expected_calls,
        coalesce(calls.total_tokens, 0) as expected_tokens,
        coalesce(tool_calls.tool_call_count, 0) as expected_tool_calls
    from day_sources
    left join calls
        on day_sources.call_date = calls.call_date
            and day_sources.source_system is not distinct from calls.source_system
    left join tool_calls
        on day_sources.call_date = tool_calls.call_date
            and day_sources.source_system is not distinct from tool_calls.source_system
    left join trends
        on day_sources.call_date = trends.call_date
            and day_sources.source_system is not distinct from trends.source_system
    left join tool_usage
        on day_sources.call_date = tool_usage.call_date
            and day_sources.source_system is not distinct from tool_usage.source_system

),

-- Over all data, the two day-grained marts stand for the facts.
trend_totals as (

    select
        sum(call_count) as call_count,
        sum(total_tokens) as total_tokens
    from {{ ref('fct_daily_token_trends') }}

),

tool_usage_totals as (

    select sum(call_count) as tool_call_count
    from {{ ref('fct_tool_usage') }}

),

expected as (

    select
        trend_totals.call_count,
        trend_totals.total_tokens,
        tool_usage_totals.tool_call_count
    from trend_totals
    cross join tool_usage_totals

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
        'dim_tools' as mart,
        null as call_count,
        null as total_tokens,
        sum(call_count) as tool_call_count
    from {{ ref('dim_tools') }}

),

total_mismatches as (

    select
        totals.mart,
        totals.call_count,
        totals.total_tokens,
        totals.tool_call_count,
        expected.call_count as expected_calls,
        expected.total_tokens as expected_tokens,
        expected.tool_call_count as expected_tool_calls
    from totals
    cross join expected

),

final as (

    select * from daily_mismatches
    union all
    select * from total_mismatches

)

select * from final
where (call_count is not null and call_count is distinct from expected_calls)
    or (total_tokens is not null and total_tokens is distinct from expected_tokens)
    or (tool_call_count is not null and tool_call_count is distinct from expected_tool_calls)
