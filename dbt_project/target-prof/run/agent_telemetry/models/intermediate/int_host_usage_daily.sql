
      delete from "warehouse"."intermediate"."int_host_usage_daily" as DBT_INTERNAL_DEST
    where call_date = any(array(
        select distinct call_date
        from "int_host_usage_daily__dbt_tmp104321578003" as DBT_INTERNAL_SOURCE
    ));

    insert into "warehouse"."intermediate"."int_host_usage_daily" ("call_date", "host_id", "tenant_id", "source_system", "session_id", "working_dir", "call_count", "has_derived_sessions", "total_tokens", "first_seen_at", "last_seen_at", "rebuilt_at")
    (
        select "call_date", "host_id", "tenant_id", "source_system", "session_id", "working_dir", "call_count", "has_derived_sessions", "total_tokens", "first_seen_at", "last_seen_at", "rebuilt_at"
        from "int_host_usage_daily__dbt_tmp104321578003"
    )
  