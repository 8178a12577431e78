
      delete from "warehouse"."intermediate"."int_calls_daily" as DBT_INTERNAL_DEST
    where call_date = any(array(
        select distinct call_date
        from "int_calls_daily__dbt_tmp104321318495" as DBT_INTERNAL_SOURCE
    ));

    insert into "warehouse"."intermediate"."int_calls_daily" ("call_date", "hour_of_day", "tenant_id", "agent_name", "call_count", "llm_call_count", "prompt_tokens", "completion_tokens", "cached_tokens", "reasoning_tokens", "cache_creation_5m_tokens", "cache_creation_1h_tokens", "total_tokens", "cost_usd", "unpriced_llm_call_count", "source_system")
    (
        select "call_date", "hour_of_day", "tenant_id", "agent_name", "call_count", "llm_call_count", "prompt_tokens", "completion_tokens", "cached_tokens", "reasoning_tokens", "cache_creation_5m_tokens", "cache_creation_1h_tokens", "total_tokens", "cost_usd", "unpriced_llm_call_count", "source_system"
        from "int_calls_daily__dbt_tmp104321318495"
    )
  