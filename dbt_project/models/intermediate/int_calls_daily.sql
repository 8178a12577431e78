{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='call_date',
        on_schema_change='fail',
        pre_hook=[
            "select pg_advisory_xact_lock(hashtext('{{ this }}'))",
            "{{ add_column_if_absent('source_system', 'text') }}",
        ],
        post_hook=[
            "{{ delete_days_missing_from(ref('int_agent_calls_unioned')) }}",
            "{{ record_build_watermark() }}",
        ],
        indexes=[{'columns': ['call_date']}],
    )
}}
{#- The calls fact summed per UTC day, hour, tenant, source and agent: the partial aggregates
    the daily, monthly and heatmap marts roll up, so that they read a row per group and hour
    instead of a row per call. Incremental by day: a run re-sums the days whose calls were rebuilt since its
    last build (macros/incremental_days.sql). Sums of integers stay exact when summed again. -#}
{%- set days = fact_rebuilt_days(ref('int_agent_calls_unioned')) -%}
{#- A table summed before `source_system` was a group column: every day again, once. -#}
{%- if built_without_column('source_system') -%}
    {%- set days = none -%}
{%- endif -%}
with

calls as (

    select * from {{ ref('int_agent_calls_unioned') }}
    where {{ on_days('call_date', days) }}

),

final as (

    select
        call_date,
        extract(hour from {{ utc('occurred_at') }})::integer as hour_of_day,
        tenant_id,
        agent_name,
        count(*) as call_count,
        count(*) filter (where is_llm_call) as llm_call_count,
        {{ sum_token_types() }}
        sum(cost_usd) as cost_usd,
        {{ unpriced_llm_calls() }} as unpriced_llm_call_count,
        -- Last: where a table built before it got it in place (pre-hook), so both shapes match.
        source_system
    from calls
    group by call_date, hour_of_day, tenant_id, agent_name, source_system

)

select * from final
