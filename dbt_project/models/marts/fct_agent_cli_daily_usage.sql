{#- Token usage of the agent CLIs (Codex, Gemini CLI, OpenCode, Copilot CLI, OTLP exports) per
    day, CLI and model, counted as ccusage's daily report counts it. Days are calendar days in
    the dbt var `report_timezone` (ccusage's --timezone). -#}
{%- set timezone = report_timezone() -%}
with

usage as (

    select * from {{ ref('int_agent_cli_usage_priced') }}
    where counts_in_daily

),

final as (

    select
        md5(
            (occurred_at at time zone '{{ timezone }}')::date || '|' || agent_cli || '|'
            || coalesce(model_name, '')
        ) as daily_usage_key,
        (occurred_at at time zone '{{ timezone }}')::date as usage_date,
        agent_cli,
        model_name,
        '{{ timezone }}' as report_timezone,
        {{ agent_cli_usage_sums() }}
    from usage
    group by 2, 3, 4

)

select * from final
