{#- Claude Code token usage per day, project and model. Days are calendar days in the dbt var
    `report_timezone` (an IANA name, default UTC, checked by the macro of that name), the same as
    ccusage's --timezone. -#}
{%- set timezone = report_timezone() -%}
with

responses as (

    select * from {{ ref('int_claude_code_responses_priced') }}

),

final as (

    select
        (occurred_at at time zone '{{ timezone }}')::date as usage_date,
        project,
        model_name,
        '{{ timezone }}' as report_timezone,
        {{ claude_code_usage_sums() }}
    from responses
    group by 1, 2, 3

)

select * from final
