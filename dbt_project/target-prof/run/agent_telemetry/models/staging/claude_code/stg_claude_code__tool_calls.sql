
      insert into "warehouse"."staging"."stg_claude_code__tool_calls" ("tool_use_id", "response_key", "session_id", "source_system", "project", "tool_name", "latency_ms", "has_result", "is_error", "occurred_at", "result_at", "loaded_at")
    (
        select "tool_use_id", "response_key", "session_id", "source_system", "project", "tool_name", "latency_ms", "has_result", "is_error", "occurred_at", "result_at", "loaded_at"
        from "stg_claude_code__tool_calls__dbt_tmp104316772095"
    )


  