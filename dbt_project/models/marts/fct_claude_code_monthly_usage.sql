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
        {{ claude_code_usage_sums() }}
    from responses
    group by 1, 2, 3

)

select * from final
