{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='call_date',
        on_schema_change='fail',
        pre_hook="select pg_advisory_xact_lock(hashtext('{{ this }}'))",
        post_hook=[
            "{{ delete_rows_left_on_build_days() }}",
            "{{ delete_days_missing_from(ref('int_agent_calls_unioned')) }}",
            "{{ record_build_watermark() }}",
        ],
        indexes=[{'columns': ['call_date']}, {'columns': ['rebuilt_at']}],
    )
}}
{#- Each agent's calls per UTC day and tenant: counts, errors and the p95 latency, which
    fct_alerts' daily rules read instead of every call. A percentile does not roll up, so this is
    the day's own, as the rule asks. Incremental by day, as int_calls_daily. -#}
{%- set days = fact_rebuilt_days(ref('int_agent_calls_unioned')) -%}
with

calls as (

    select * from {{ ref('int_agent_calls_unioned') }}
    where {{ on_days('call_date', days) }}

),

final as (

    select
        call_date,
        tenant_id,
        agent_name,
        count(*) as call_count,
        count(*) filter (where is_error) as error_count,
        count(latency_ms) as timed_call_count,
        percentile_cont(0.95) within group (order by latency_ms) as p95_latency_ms,
        now() as rebuilt_at
    from calls
    group by call_date, tenant_id, agent_name

)

select * from final
