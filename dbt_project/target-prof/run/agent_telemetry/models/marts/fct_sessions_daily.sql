
      insert into "warehouse"."marts"."fct_sessions_daily" ("sessions_daily_key", "session_date", "tenant_id", "source_system", "provider", "model", "complexity", "session_count", "derived_session_count", "transcript_session_count", "duration_seconds", "max_duration_seconds", "call_count", "message_count", "tool_call_count", "llm_call_count", "error_count", "retry_count", "prompt_tokens", "completion_tokens", "cached_tokens", "reasoning_tokens", "cache_creation_tokens", "total_tokens", "estimated_transcript_tokens", "cost_usd", "unpriced_llm_call_count", "complexity_score_sum", "error_breakdown", "patterns")
    (
        select "sessions_daily_key", "session_date", "tenant_id", "source_system", "provider", "model", "complexity", "session_count", "derived_session_count", "transcript_session_count", "duration_seconds", "max_duration_seconds", "call_count", "message_count", "tool_call_count", "llm_call_count", "error_count", "retry_count", "prompt_tokens", "completion_tokens", "cached_tokens", "reasoning_tokens", "cache_creation_tokens", "total_tokens", "estimated_transcript_tokens", "cost_usd", "unpriced_llm_call_count", "complexity_score_sum", "error_breakdown", "patterns"
        from "fct_sessions_daily__dbt_tmp104326389481"
    )


  