
      delete from "warehouse"."intermediate"."int_agent_calls_unioned" as DBT_INTERNAL_DEST
    where call_date = any(array(
        select distinct call_date
        from "int_agent_calls_unioned__dbt_tmp104320077559" as DBT_INTERNAL_SOURCE
    ));

    insert into "warehouse"."intermediate"."int_agent_calls_unioned" ("call_id", "source_system", "tenant_id", "host_id", "session_id", "source_session_id", "working_dir", "agent_name", "hook_name", "tool_name", "model_name", "model_provider", "event_type", "decision", "reason_text", "error_class", "error_category", "token_basis", "cost_basis", "latency_ms", "prompt_tokens", "completion_tokens", "cached_tokens", "reasoning_tokens", "cache_creation_tokens", "cache_creation_5m_tokens", "cache_creation_1h_tokens", "total_tokens", "cost_usd", "retry_count", "is_success", "is_error", "is_llm_call", "is_tool_call", "is_token_estimated", "is_session_derived", "occurred_at", "call_date", "source_loaded_at", "rebuilt_at")
    (
        select "call_id", "source_system", "tenant_id", "host_id", "session_id", "source_session_id", "working_dir", "agent_name", "hook_name", "tool_name", "model_name", "model_provider", "event_type", "decision", "reason_text", "error_class", "error_category", "token_basis", "cost_basis", "latency_ms", "prompt_tokens", "completion_tokens", "cached_tokens", "reasoning_tokens", "cache_creation_tokens", "cache_creation_5m_tokens", "cache_creation_1h_tokens", "total_tokens", "cost_usd", "retry_count", "is_success", "is_error", "is_llm_call", "is_tool_call", "is_token_estimated", "is_session_derived", "occurred_at", "call_date", "source_loaded_at", "rebuilt_at"
        from "int_agent_calls_unioned__dbt_tmp104320077559"
    )
  