
      delete from "warehouse"."marts"."fct_tool_usage" as DBT_INTERNAL_DEST
    where usage_date = any(array(
        select distinct usage_date
        from "fct_tool_usage__dbt_tmp104323477199" as DBT_INTERNAL_SOURCE
    ));

    insert into "warehouse"."marts"."fct_tool_usage" ("usage_date", "tenant_id", "tool_name", "call_count", "success_count", "error_count", "denied_count", "session_count", "agent_count", "success_rate", "total_time_ms", "avg_time_ms", "p95_time_ms", "source_system")
    (
        select "usage_date", "tenant_id", "tool_name", "call_count", "success_count", "error_count", "denied_count", "session_count", "agent_count", "success_rate", "total_time_ms", "avg_time_ms", "p95_time_ms", "source_system"
        from "fct_tool_usage__dbt_tmp104323477199"
    )
  