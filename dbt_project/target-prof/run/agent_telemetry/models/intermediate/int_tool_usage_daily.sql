
      delete from "warehouse"."intermediate"."int_tool_usage_daily" as DBT_INTERNAL_DEST
    where call_date = any(array(
        select distinct call_date
        from "int_tool_usage_daily__dbt_tmp104324723825" as DBT_INTERNAL_SOURCE
    ));

    insert into "warehouse"."intermediate"."int_tool_usage_daily" ("call_date", "tool_name", "source_system", "session_id", "agent_name", "call_count", "error_count", "denied_count", "first_seen_at", "last_seen_at", "rebuilt_at")
    (
        select "call_date", "tool_name", "source_system", "session_id", "agent_name", "call_count", "error_count", "denied_count", "first_seen_at", "last_seen_at", "rebuilt_at"
        from "int_tool_usage_daily__dbt_tmp104324723825"
    )
  