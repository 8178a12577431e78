
      delete from "warehouse"."intermediate"."int_agent_usage_daily" as DBT_INTERNAL_DEST
    where call_date = any(array(
        select distinct call_date
        from "int_agent_usage_daily__dbt_tmp104321050635" as DBT_INTERNAL_SOURCE
    ));

    insert into "warehouse"."intermediate"."int_agent_usage_daily" ("call_date", "tenant_id", "agent_name", "source_system", "model_name", "model_provider", "call_count", "llm_call_count", "error_count", "prompt_tokens", "completion_tokens", "total_tokens", "cost_usd", "unpriced_llm_call_count", "reported_cost_call_count", "priced_cost_call_count", "unpriced_call_count", "first_seen_at", "last_seen_at", "rebuilt_at")
    (
        select "call_date", "tenant_id", "agent_name", "source_system", "model_name", "model_provider", "call_count", "llm_call_count", "error_count", "prompt_tokens", "completion_tokens", "total_tokens", "cost_usd", "unpriced_llm_call_count", "reported_cost_call_count", "priced_cost_call_count", "unpriced_call_count", "first_seen_at", "last_seen_at", "rebuilt_at"
        from "int_agent_usage_daily__dbt_tmp104321050635"
    )
  