
      delete from "warehouse"."intermediate"."int_agent_days" as DBT_INTERNAL_DEST
    where call_date = any(array(
        select distinct call_date
        from "int_agent_days__dbt_tmp104321055709" as DBT_INTERNAL_SOURCE
    ));

    insert into "warehouse"."intermediate"."int_agent_days" ("call_date", "tenant_id", "agent_name", "call_count", "error_count", "timed_call_count", "p95_latency_ms", "rebuilt_at")
    (
        select "call_date", "tenant_id", "agent_name", "call_count", "error_count", "timed_call_count", "p95_latency_ms", "rebuilt_at"
        from "int_agent_days__dbt_tmp104321055709"
    )
  