
      insert into "warehouse"."intermediate"."int_claude_code_responses_priced" ("response_key", "agent_type", "message_id", "request_id", "session_id", "logged_session_id", "agent_id", "line_uuid", "source_system", "project", "model_name", "stop_reason", "file_path", "client_version", "git_branch", "input_tokens", "output_tokens", "cache_creation_tokens", "cache_creation_5m_tokens", "cache_creation_1h_tokens", "cache_read_tokens", "total_tokens", "copy_count", "is_sidechain", "occurred_at", "loaded_at", "working_dir", "price_valid_from", "cost_usd", "is_priced", "usage_source", "speed", "logged_cost_usd", "priced_cost_usd", "price_source")
    (
        select "response_key", "agent_type", "message_id", "request_id", "session_id", "logged_session_id", "agent_id", "line_uuid", "source_system", "project", "model_name", "stop_reason", "file_path", "client_version", "git_branch", "input_tokens", "output_tokens", "cache_creation_tokens", "cache_creation_5m_tokens", "cache_creation_1h_tokens", "cache_read_tokens", "total_tokens", "copy_count", "is_sidechain", "occurred_at", "loaded_at", "working_dir", "price_valid_from", "cost_usd", "is_priced", "usage_source", "speed", "logged_cost_usd", "priced_cost_usd", "price_source"
        from "int_claude_code_responses_priced__dbt_tmp104317108792"
    )


  