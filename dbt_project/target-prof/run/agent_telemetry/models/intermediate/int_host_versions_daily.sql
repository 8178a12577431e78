
      delete from "warehouse"."intermediate"."int_host_versions_daily" as DBT_INTERNAL_DEST
    where call_date = any(array(
        select distinct call_date
        from "int_host_versions_daily__dbt_tmp104321706456" as DBT_INTERNAL_SOURCE
    ));

    insert into "warehouse"."intermediate"."int_host_versions_daily" ("call_date", "host_id", "last_event_at", "client_version", "rebuilt_at")
    (
        select "call_date", "host_id", "last_event_at", "client_version", "rebuilt_at"
        from "int_host_versions_daily__dbt_tmp104321706456"
    )
  