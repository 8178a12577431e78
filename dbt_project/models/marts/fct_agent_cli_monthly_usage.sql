{#- Token usage of the agent CLIs per month (in the dbt var `report_timezone`), CLI and model,
    counted as ccusage's monthly report counts it. -#}
{%- set timezone = report_timezone() -%}
with

usage as (

    select * from {{ ref('int_agent_cli_usage_priced') }}
    where counts_in_daily

),

final as (

    select
        md5(
            to_char(occurred_at at time zone '{{ timezone }}', 'YYYY-MM') || '|' || agent_cli
            || '|' || coalesce(model_name, '')
        ) as monthly_usage_key,
        to_char(occurred_at at time zone '{{ timezone }}', 'YYYY-MM') as usage_month,
        agent_cli,
        model_name,
        '{{ timezone }}' as report_timezone,
        {{ agent_cli_usage_sums() }}
    from usage
    group by 2, 3, 4

)

select * from final
