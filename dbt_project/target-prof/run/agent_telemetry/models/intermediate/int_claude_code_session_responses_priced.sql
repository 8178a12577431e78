
      insert into "warehouse"."intermediate"."int_claude_code_session_responses_priced" ("response_key", "message_id", "request_id", "session_id", "project", "model_name", "file_path", "input_tokens", "output_tokens", "cache_creation_tokens", "cache_creation_5m_tokens", "cache_creation_1h_tokens", "cache_read_tokens", "total_tokens", "copy_count", "is_sidechain", "occurred_at", "loaded_at", "price_valid_from", "price_source", "logged_cost_usd", "priced_cost_usd", "cost_usd", "is_priced")
    (
        select "response_key", "message_id", "request_id", "session_id", "project", "model_name", "file_path", "input_tokens", "output_tokens", "cache_creation_tokens", "cache_creation_5m_tokens", "cache_creation_1h_tokens", "cache_read_tokens", "total_tokens", "copy_count", "is_sidechain", "occurred_at", "loaded_at", "price_valid_from", "price_source", "logged_cost_usd", "priced_cost_usd", "cost_usd", "is_priced"
        from "int_claude_code_session_responses_priced__dbt_tmp104317600120"
    )


  