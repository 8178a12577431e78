{#- One row per host that sends collector events (directly or in dropped batch files). -#}
with

collector_events as (

    select * from {{ ref('stg_collector__telemetry_events') }}

),

landed_batch_events as (

    select * from {{ ref('stg_landing__collector_events') }}

),

calls as (

    select * from {{ ref('int_agent_calls_unioned') }}

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

versions_in_raw as (

    select distinct on (host_id)
        host_id,
        client_version
    from events
    -- Rows a backfill re-read from before the retention horizon do not count.
    where occurred_at >= {{ retention_horizon() }}
    order by host_id asc, occurred_at desc

),

{# A host whose raw events retention deleted keeps the version this table last knew. -#}
{%- set existing = existing_relation() %}

latest_versions as (

    select * from versions_in_raw
    {%- if existing is not none %}
        union all
        select
            previous.host_id,
            previous.latest_client_version
        from {{ this }} as previous
        where not exists (
                select 1 from versions_in_raw
                where versions_in_raw.host_id = previous.host_id
            )
    {%- endif %}

),

host_calls as (

    select
        host_id,
        min(tenant_id) as tenant_id,
        jsonb_agg(distinct source_system) as source_systems,
        count(*) as call_count,
        count(distinct source_system || ':' || session_id) as session_count,
        count(distinct working_dir) as working_dir_count,
        bool_or(is_session_derived) as has_derived_sessions,
        sum(total_tokens) as total_tokens,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at
    from calls
    where host_id is not null
    group by host_id

),

final as (

    select
        host_calls.host_id,
        host_calls.tenant_id,
        latest_versions.client_version as latest_client_version,
        host_calls.source_systems,
        host_calls.call_count,
        host_calls.session_count,
        host_calls.working_dir_count,
        host_calls.has_derived_sessions,
        host_calls.total_tokens,
        host_calls.first_seen_at,
        host_calls.last_seen_at
    from host_calls
    left join latest_versions
        on host_calls.host_id = latest_versions.host_id

)

select * from final
