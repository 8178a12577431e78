
  
    

  create  table "warehouse"."marts"."fct_session_summaries__dbt_tmp"
  
  
    as
  
  (
    with

sessions as (

    select * from "warehouse"."intermediate"."int_sessions_scored"

),

final as (

    -- Every column of int_sessions_scored but when it was scored (its checks' window).
    select "session_key",
        "session_id",
        "tenant_id",
        "host_id",
        "source_system",
        "working_dir",
        "provider",
        "model",
        "complexity",
        "duration_seconds",
        "call_count",
        "message_count",
        "tool_call_count",
        "unique_tool_count",
        "llm_call_count",
        "model_count",
        "source_session_count",
        "error_count",
        "retry_count",
        "prompt_tokens",
        "completion_tokens",
        "cached_tokens",
        "reasoning_tokens",
        "cache_creation_tokens",
        "total_tokens",
        "estimated_transcript_tokens",
        "token_efficiency",
        "tokens_per_successful_call",
        "cost_usd",
        "unpriced_llm_call_count",
        "success_rate",
        "avg_latency_ms",
        "p95_latency_ms",
        "error_rate",
        "complexity_score",
        "tool_usage",
        "error_breakdown",
        "patterns",
        "is_session_derived",
        "has_transcript",
        "has_estimated_tokens",
        "has_priced_cost",
        "started_at",
        "ended_at"
    from sessions
    where started_at >= (select coalesce(max(cutoff), '-infinity'::timestamptz)
     from "warehouse"."raw"."downsample_runs")

)

select * from final
  );
  