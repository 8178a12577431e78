
      insert into "warehouse"."staging"."stg_claude_code__session_responses" ("response_key", "message_id", "request_id", "session_id", "project", "model_name", "file_path", "input_tokens", "output_tokens", "cache_creation_tokens", "cache_creation_5m_tokens", "cache_creation_1h_tokens", "cache_read_tokens", "total_tokens", "logged_cost_usd", "copy_count", "is_sidechain", "occurred_at", "loaded_at")
    (
        select "response_key", "message_id", "request_id", "session_id", "project", "model_name", "file_path", "input_tokens", "output_tokens", "cache_creation_tokens", "cache_creation_5m_tokens", "cache_creation_1h_tokens", "cache_read_tokens", "total_tokens", "logged_cost_usd", "copy_count", "is_sidechain", "occurred_at", "loaded_at"
        from "stg_claude_code__session_responses__dbt_tmp104316753122"
    )


  