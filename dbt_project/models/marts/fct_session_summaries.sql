with

sessions as (

    select * from {{ ref('int_sessions_aggregated') }}

),

final as (

    select
        -- ids
        source_system || ':' || session_id as session_key,
        session_id,
        tenant_id,

        -- strings
        source_system,

        -- numerics
        extract(epoch from ended_at - started_at)::numeric as duration_seconds,
        call_count,
        message_count,
        tool_call_count,
        llm_call_count,
        error_count,
        prompt_tokens,
        completion_tokens,
        cached_tokens,
        total_tokens,
        estimated_transcript_tokens,
        cost_usd,
        round(success_rate, 6) as success_rate,
        round(avg_latency_ms, 3) as avg_latency_ms,
        round(p95_latency_ms, 3) as p95_latency_ms,

        -- booleans
        has_transcript,

        -- timestamps
        started_at,
        ended_at

    from sessions

)

select * from final
