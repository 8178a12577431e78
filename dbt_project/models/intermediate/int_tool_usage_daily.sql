{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='call_date',
        on_schema_change='fail',
        pre_hook="select pg_advisory_xact_lock(hashtext('{{ this }}'))",
        post_hook=[
            "{{ delete_rows_left_on_build_days() }}",
            "{{ delete_days_missing_from(ref('int_tool_calls')) }}",
            "{{ index_if_absent(['tool_name', 'source_system', 'session_id']) }}",
            "{{ record_build_watermark() }}",
        ],
        indexes=[
            {'columns': ['call_date']}, {'columns': ['rebuilt_at']},
            {'columns': ['tool_name', 'source_system', 'session_id']},
        ],
    )
}}
{#- Tool calls counted per UTC day, tool, source, session and agent: the partial counts dim_tools
    rolls up. Sessions and agents are group columns, so their distinct counts stay exact when
    rolled up (dim_tools reads the distinct sessions of each tool from the index on tool_name,
    source_system, session_id). Incremental by day: a run re-counts the days int_tool_calls rebuilt since its
    build watermark (macros/incremental_days.sql). -#}
{%- set days = fact_rebuilt_days(ref('int_tool_calls')) -%}
with

tool_calls as (

    select * from {{ ref('int_tool_calls') }}
    where {{ on_days('call_date', days) }}

),

final as (

    select
        call_date,
        tool_name,
        source_system,
        session_id,
        agent_name,
        count(*) as call_count,
        count(*) filter (where is_error) as error_count,
        count(*) filter (where is_denied) as denied_count,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        now() as rebuilt_at
    from tool_calls
    group by call_date, tool_name, source_system, session_id, agent_name

)

select * from final
