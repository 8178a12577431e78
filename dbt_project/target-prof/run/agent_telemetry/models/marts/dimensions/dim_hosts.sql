
  
    

  create  table "warehouse"."marts"."dim_hosts__dbt_tmp"
  
  
    as
  
  (
    with

usage as (

    select * from "warehouse"."intermediate"."int_host_usage_daily"

),

versions as (

    select * from "warehouse"."intermediate"."int_host_versions_daily"

),

versions_kept as (

    select distinct on (host_id)
        host_id,
        client_version
    from versions
    order by host_id asc, last_event_at desc, client_version desc

),



latest_versions as (

    select * from versions_kept
        union all
        select
            previous.host_id,
            previous.latest_client_version
        from "warehouse"."marts"."dim_hosts" as previous
        where not exists (
                select 1 from versions_kept
                where versions_kept.host_id = previous.host_id
            )

),

host_calls as (

    select
        host_id,
        min(tenant_id) as tenant_id,
        jsonb_agg(distinct source_system) as source_systems,
        sum(call_count)::bigint as call_count,
        count(distinct source_system || ':' || session_id) as session_count,
        count(distinct working_dir) as working_dir_count,
        bool_or(has_derived_sessions) as has_derived_sessions,
        sum(total_tokens)::bigint as total_tokens,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at
    from usage
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
  );
  