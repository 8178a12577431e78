with

collector_events as (

    select * from "warehouse"."staging"."stg_collector__telemetry_events"
    where ((occurred_at >= '2026-12-02 00:00+00'::timestamptz + interval '0'
             and occurred_at < '2026-12-02 00:00+00'::timestamptz + interval '1 day') or (occurred_at >= '2026-12-03 00:00+00'::timestamptz + interval '0'
             and occurred_at < '2026-12-03 00:00+00'::timestamptz + interval '1 day'))

),

landed_batch_events as (

    select * from "warehouse"."staging"."stg_landing__collector_events"
    where ((occurred_at >= '2026-12-02 00:00+00'::timestamptz + interval '0'
             and occurred_at < '2026-12-02 00:00+00'::timestamptz + interval '1 day') or (occurred_at >= '2026-12-03 00:00+00'::timestamptz + interval '0'
             and occurred_at < '2026-12-03 00:00+00'::timestamptz + interval '1 day'))

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
        ((occurred_at at time zone 'UTC'))::date as call_date,
        host_id,
        occurred_at as last_event_at,
        client_version,
        now() as rebuilt_at
    from events
    where host_id is not null and occurred_at >= (select coalesce(max(cutoff), '-infinity'::timestamptz)
     from "warehouse"."raw"."retention_runs")
    order by call_date asc, host_id asc, occurred_at desc, client_version desc

)

select * from final
where call_date >= ((select coalesce(max(cutoff), '-infinity'::timestamptz)
     from "warehouse"."raw"."retention_runs"))::date