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
{#- The calls of known hosts summed per UTC day, host, tenant, source, session and working
    directory: the partial aggregates dim_hosts rolls up. Sessions and directories are group
    columns, so their distinct counts stay exact when rolled up. Incremental by day, as
    int_calls_daily. -#}
{%- set days = fact_rebuilt_days(ref('int_agent_calls_unioned')) -%}
with

calls as (

    select * from {{ ref('int_agent_calls_unioned') }}
    where host_id is not null and {{ on_days('call_date', days) }}

),

final as (

    select
        call_date,
        host_id,
        tenant_id,
        source_system,
        session_id,
        working_dir,
        count(*) as call_count,
        bool_or(is_session_derived) as has_derived_sessions,
        sum(total_tokens) as total_tokens,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        now() as rebuilt_at
    from calls
    group by call_date, host_id, tenant_id, source_system, session_id, working_dir

)

select * from final
