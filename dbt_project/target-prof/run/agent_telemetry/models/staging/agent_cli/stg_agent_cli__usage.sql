
      delete from "warehouse"."staging"."stg_agent_cli__usage" as DBT_INTERNAL_DEST
    where usage_key = any(array(
        select distinct usage_key
        from "stg_agent_cli__usage__dbt_tmp104316557722" as DBT_INTERNAL_SOURCE
    ));

    insert into "warehouse"."staging"."stg_agent_cli__usage" ("usage_key", "agent_cli", "file_path", "record_key", "record_kind", "session_id", "thread_id", "forked_from_id", "message_id", "response_id", "trace_id", "project", "model_name", "provider", "tier_rule", "record_index", "usage_ordinal", "input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens", "reasoning_tokens", "extra_output_tokens", "total_tokens", "tier_basis_tokens", "request_count", "logged_cost_usd", "is_fallback_model", "is_replayed", "counts_in_daily", "counts_in_session", "occurred_at", "loaded_at", "rebuilt_at")
    (
        select "usage_key", "agent_cli", "file_path", "record_key", "record_kind", "session_id", "thread_id", "forked_from_id", "message_id", "response_id", "trace_id", "project", "model_name", "provider", "tier_rule", "record_index", "usage_ordinal", "input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens", "reasoning_tokens", "extra_output_tokens", "total_tokens", "tier_basis_tokens", "request_count", "logged_cost_usd", "is_fallback_model", "is_replayed", "counts_in_daily", "counts_in_session", "occurred_at", "loaded_at", "rebuilt_at"
        from "stg_agent_cli__usage__dbt_tmp104316557722"
    )
  