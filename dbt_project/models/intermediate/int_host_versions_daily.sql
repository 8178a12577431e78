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
{#- Each host's newest collector event per UTC day (sent directly or in batch files), with its
    client version: dim_hosts takes the newest day's. A raw day changes calls of the same day, so
    the days the calls fact rebuilt are the days to read again. Days before the retention horizon
    are final, kept as they were even by a full refresh; events a backfill re-read from before it
    do not count. -#}
{%- set days = fact_rebuilt_days(ref('int_agent_calls_unioned')) -%}
with

collector_events as (

    select * from {{ ref('stg_collector__telemetry_events') }}
    where {{ on_days_of('occurred_at', days) }}

),

landed_batch_events as (

    select * from {{ ref('stg_landing__collector_events') }}
    where {{ on_days_of('occurred_at', days) }}

),

events as (

    select
        host_id,
        client_version,
        occurred_at
    from collector_events
    union all
    select
        host_id,
        client_version,
        occurred_at
    from landed_batch_events

),

final as (

    select distinct on (call_date, host_id)
        ({{ utc('occurred_at') }})::date as call_date,
        host_id,
        occurred_at as last_event_at,
        client_version,
        now() as rebuilt_at
    from events
    where host_id is not null and occurred_at >= {{ retention_horizon() }}
    order by call_date asc, host_id asc, occurred_at desc, client_version desc

)

select * from final
{{ keep_days_before_retention_horizon('call_date') }}
