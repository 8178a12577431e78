
      delete from "warehouse"."intermediate"."int_tool_calls" as DBT_INTERNAL_DEST
    where call_date = any(array(
        select distinct call_date
        from "int_tool_calls__dbt_tmp104321877317" as DBT_INTERNAL_SOURCE
    ));

    insert into "warehouse"."intermediate"."int_tool_calls" ("tool_call_id", "call_id", "source_system", "tenant_id", "session_id", "agent_name", "tool_name", "tool_position", "decision", "is_success", "is_error", "is_denied", "latency_ms", "occurred_at", "call_date", "rebuilt_at")
    (
        select "tool_call_id", "call_id", "source_system", "tenant_id", "session_id", "agent_name", "tool_name", "tool_position", "decision", "is_success", "is_error", "is_denied", "latency_ms", "occurred_at", "call_date", "rebuilt_at"
        from "int_tool_calls__dbt_tmp104321877317"
    )
  