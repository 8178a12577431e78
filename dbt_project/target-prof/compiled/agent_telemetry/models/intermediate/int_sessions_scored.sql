with

sessions as (
        select * from "warehouse"."intermediate"."int_sessions_aggregated"
        where (source_system, session_id) in (
                select
                    changed.source_system,
                    changed.session_id
                from int_sessions_scored__consumed_changes as changed
                where changed.change_kind = 'row'
            )
            and not (select count(*) > 0 from int_sessions_scored__consumed_changes where change_kind = 'whole')
        union all
        -- A session without an id (one per source) matches no `in`.
        select * from "warehouse"."intermediate"."int_sessions_aggregated"
        where session_id is null
            and source_system in (
                select changed.source_system
                from int_sessions_scored__consumed_changes as changed
                where changed.change_kind = 'row' and changed.session_id is null
            )
            and not (select count(*) > 0 from int_sessions_scored__consumed_changes where change_kind = 'whole')
        union all
        select * from "warehouse"."intermediate"."int_sessions_aggregated"
        where (select count(*) > 0 from int_sessions_scored__consumed_changes where change_kind = 'whole')

),

-- Seed 003's complexity score: message count, unique tools, error rate and duration.
scored as (

    select
        *,
        extract(epoch from ended_at - started_at)::numeric as session_seconds,
        error_count::numeric / nullif(call_count, 0) as error_rate
    from sessions

),

classified as (

    select
        *,
        case
        when call_count > 50 then 3
        when call_count > 20 then 2
        when call_count > 10 then 1
        else 0
    end
        + case
        when unique_tool_count > 10 then 3
        when unique_tool_count > 5 then 2
        when unique_tool_count > 2 then 1
        else 0
    end
        + case
        when coalesce(error_rate, 0) > 0.2 then 2
        when coalesce(error_rate, 0) > 0.1 then 1
        else 0
    end
        + case
        when session_seconds > 3600 then 2
        when session_seconds > 1800 then 1
        else 0
    end
            as complexity_score
    from scored

),

final as (

    select
        -- ids
        source_system || ':' || session_id as session_key,
        session_id,
        tenant_id,
        host_id,

        -- strings
        source_system,
        working_dir,
        model_provider as provider,
        model_name as model,
        case
        when complexity_score >= 8 then 'very_high'
        when complexity_score >= 6 then 'high'
        when complexity_score >= 4 then 'medium'
        when complexity_score >= 2 then 'low'
        else 'very_low'
    end as complexity,

        -- numerics
        session_seconds as duration_seconds,
        call_count,
        message_count,
        tool_call_count,
        unique_tool_count,
        llm_call_count,
        model_count,
        source_session_count,
        error_count,
        retry_count,
        prompt_tokens,
        completion_tokens,
        cached_tokens,
        reasoning_tokens,
        cache_creation_tokens,
        total_tokens,
        estimated_transcript_tokens,
        round(completion_tokens::numeric / nullif(total_tokens, 0), 6) as token_efficiency,
        round(total_tokens::numeric / nullif(success_count, 0), 3) as tokens_per_successful_call,
        cost_usd,
        unpriced_llm_call_count,
        round(success_rate, 6) as success_rate,
        round(avg_latency_ms, 3) as avg_latency_ms,
        round(p95_latency_ms, 3) as p95_latency_ms,
        round(error_rate, 6) as error_rate,
        complexity_score,

        -- json
        tool_usage,
        error_breakdown,
        patterns,

        -- booleans
        is_session_derived,
        has_transcript,
        has_estimated_tokens,
        has_priced_cost,

        -- timestamps
        started_at,
        ended_at,
        -- when the session was last scored: its checks read the sessions scored since
        now() as rebuilt_at

    from classified

)

select * from final