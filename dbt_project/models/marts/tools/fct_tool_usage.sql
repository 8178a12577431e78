{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='usage_date',
        on_schema_change='fail',
        pre_hook=[
            "select pg_advisory_xact_lock(hashtext('{{ this }}'))",
            "{{ add_column_if_absent('source_system', 'text') }}",
        ],
        post_hook=[
            "{{ delete_days_missing_from(ref('int_tool_calls'), 'usage_date') }}",
            "{{ record_build_watermark() }}",
        ],
        indexes=[{'columns': ['usage_date']}],
    )
}}
{#- One row per UTC day, tenant, source and tool: how often it ran, how it ended and how long
    it took. Incremental by day: a run recounts the days whose tool calls were rebuilt since its
    last build (macros/incremental_days.sql). -#}
{%- set days = fact_rebuilt_days(ref('int_tool_calls')) -%}
{#- A table counted before `source_system` was a group column: every day again, once. -#}
{%- if built_without_column('source_system') -%}
    {%- set days = none -%}
{%- endif -%}
with

tool_calls as (

    select * from {{ ref('int_tool_calls') }}
    where {{ on_days('call_date', days) }}

),

final as (

    select
        -- ids
        call_date as usage_date,
        tenant_id,
        tool_name,

        -- numerics
        count(*) as call_count,
        count(*) filter (where is_success) as success_count,
        count(*) filter (where is_error) as error_count,
        count(*) filter (where is_denied) as denied_count,
        count(distinct session_id) as session_count,
        count(distinct agent_name) as agent_count,
        round(avg(is_success::integer)::numeric, 6) as success_rate,
        coalesce(sum(latency_ms), 0) as total_time_ms,
        round(avg(latency_ms)::numeric, 3) as avg_time_ms,
        round((percentile_cont(0.95) within group (order by latency_ms))::numeric, 3)
            as p95_time_ms,

        -- Last: where a table built before it got it in place (pre-hook), so both shapes match.
        source_system

    from tool_calls
    group by call_date, tenant_id, source_system, tool_name

)

select * from final
