with

calls as (

    select found.*
    from (
        select distinct source_system, session_id from (
                select
                    source_system,
                    case when not has_no_id then session_key end as session_id
                from int_sessions_aggregated__touched_sessions
            ) as touched where session_id is not null
    ) as wanted
    cross join lateral (
        select * from "warehouse"."intermediate"."int_agent_calls_unioned" as session_rows
        where session_rows.source_system = wanted.source_system
            and session_rows.session_id = wanted.session_id
        offset 0
    ) as found
    union all
    select * from "warehouse"."intermediate"."int_agent_calls_unioned"
    where session_id is null
        and source_system in (
            select source_system from (
                select
                    source_system,
                    case when not has_no_id then session_key end as session_id
                from int_sessions_aggregated__touched_sessions
            ) as touched where session_id is null
        )

),

tool_calls as (

    select found.*
    from (
        select distinct source_system, session_id from (
                select
                    source_system,
                    case when not has_no_id then session_key end as session_id
                from int_sessions_aggregated__touched_sessions
            ) as touched where session_id is not null
    ) as wanted
    cross join lateral (
        select * from "warehouse"."intermediate"."int_tool_calls" as session_rows
        where session_rows.source_system = wanted.source_system
            and session_rows.session_id = wanted.session_id
        offset 0
    ) as found
    union all
    select * from "warehouse"."intermediate"."int_tool_calls"
    where session_id is null
        and source_system in (
            select source_system from (
                select
                    source_system,
                    case when not has_no_id then session_key end as session_id
                from int_sessions_aggregated__touched_sessions
            ) as touched where session_id is null
        )

),

-- A transcript counts only in a session of its id's calls (session_transcripts below).
transcripts as (

    select found.*
        from (select distinct wanted_id from (select source_session_id from calls where source_system = 'collector') as ids (wanted_id)) as wanted
        cross join lateral (
            select * from "warehouse"."staging"."stg_collector__session_transcripts" as id_rows
            where id_rows.session_id = wanted.wanted_id
            offset 0
        ) as found

),

transcript_messages as (

    select found.*
        from (select distinct wanted_id from (select session_id from transcripts) as ids (wanted_id)) as wanted
        cross join lateral (
            select * from "warehouse"."staging"."stg_collector__transcript_messages" as id_rows
            where id_rows.session_id = wanted.wanted_id
            offset 0
        ) as found

),

call_totals as (

    select
        source_system,
        session_id,
        min(tenant_id) as tenant_id,
        min(host_id) as host_id,
        mode() within group (order by working_dir) as working_dir,
        mode() within group (order by model_provider) as model_provider,
        mode() within group (order by model_name) as model_name,
        count(distinct model_name) as model_count,
        count(distinct source_session_id) as source_session_count,
        bool_or(is_session_derived) as is_session_derived,
        count(*) as call_count,
        count(*) filter (where is_llm_call) as llm_call_count,
        count(*) filter (where is_error) as error_count,
        sum(retry_count) as retry_count,
        sum(prompt_tokens) as prompt_tokens,
        sum(completion_tokens) as completion_tokens,
        sum(cached_tokens) as cached_tokens,
        sum(reasoning_tokens) as reasoning_tokens,
        sum(cache_creation_tokens) as cache_creation_tokens,
        sum(total_tokens) as total_tokens,
        bool_or(is_token_estimated) as has_estimated_tokens,
        sum(cost_usd) as cost_usd,
        bool_or(cost_basis = 'priced') as has_priced_cost,
        count(*) filter (where is_llm_call and cost_usd is null) as unpriced_llm_call_count,
        count(*) filter (where is_success) as success_count,
        avg(is_success::integer)::numeric as success_rate,
        avg(latency_ms)::numeric as avg_latency_ms,
        percentile_cont(0.95) within group (order by latency_ms)::numeric as p95_latency_ms,
        jsonb_build_object(
        'rate_limit', count(*) filter (where (is_error) and reason_text ~* 'rate.?limit|429|too.?many.?requests'),
        'timeout', count(*) filter (where (is_error) and reason_text ~* 'timeout|timed.?out|deadline'),
        'auth_failure', count(*) filter (where (is_error) and reason_text ~* 'auth|unauthorized|403|401'),
        'network', count(*) filter (where (is_error) and reason_text ~* 'network|connection|refused|unreachable'),
        'validation', count(*) filter (where (is_error) and reason_text ~* 'validation|invalid|schema'),
        'tool_error', count(*) filter (where (is_error) and reason_text ~* 'tool.?error|tool.?failed')
    )
            as error_pattern_counts,
        jsonb_strip_nulls(jsonb_build_object(
                'transient',
                nullif(count(*) filter (where error_class = 'transient'), 0),
                'quota',
                nullif(count(*) filter (where error_class = 'quota'), 0),
                'validation',
                nullif(count(*) filter (where error_class = 'validation'), 0),
                'upstream',
                nullif(count(*) filter (where error_class = 'upstream'), 0),
                'policy',
                nullif(count(*) filter (where error_class = 'policy'), 0),
                'unknown',
                nullif(count(*) filter (where error_class = 'unknown'), 0)
        )) as error_class_counts,
        jsonb_build_object(
        'retry', count(*) filter (where (true) and reason_text ~* 'retry|retrying|attempt'),
        'fallback', count(*) filter (where (true) and reason_text ~* 'fallback|alternative|instead'),
        'clarification', count(*) filter (where (true) and reason_text ~* 'clarify|unclear|ambiguous'),
        'exploration', count(*) filter (where (true) and reason_text ~* 'searching|looking|finding')
    ) as behavior_pattern_counts,
        min(occurred_at) as started_at,
        max(occurred_at) as ended_at
    from calls
    group by source_system, session_id

),

tool_stats as (

    select
        source_system,
        session_id,
        tool_name,
        count(*) as call_count,
        count(*) filter (where is_success) as success_count,
        count(*) filter (where is_error) as error_count,
        coalesce(sum(latency_ms), 0) as total_time_ms
    from tool_calls
    group by source_system, session_id, tool_name

),

tool_usage as (

    select
        source_system,
        session_id,
        sum(call_count)::bigint as tool_call_count,
        count(*) as unique_tool_count,
        jsonb_object_agg(tool_name, jsonb_build_object(
            'count', call_count,
            'success_count', success_count,
            'error_count', error_count,
            'total_time_ms', total_time_ms,
            'avg_time_ms', round(total_time_ms::numeric / call_count, 3),
            'success_rate', round(success_count::numeric / call_count, 6)
        )) as tool_usage
    from tool_stats
    group by source_system, session_id

),

-- Transcripts are the collector's, keyed by the session id its client sent. Each belongs to
-- exactly one session: the one holding most of its id's calls (the earliest on a tie), so no
-- message is counted twice. A session's message count is the collector's count of messages in
-- the transcript, quarantined ones included; the token estimate is of the messages loaded.
transcript_sessions as (

    select distinct on (source_session_id)
        source_system,
        session_id,
        source_session_id
    from (
        select
            source_system,
            session_id,
            source_session_id,
            count(*) as call_count,
            min(occurred_at) as first_call_at
        from calls
        where source_system = 'collector'
        group by source_system, session_id, source_session_id
    ) as per_session
    order by source_session_id asc, call_count desc, first_call_at asc, session_id asc

),

message_totals as (

    select
        session_id,
        sum(estimated_tokens) as estimated_tokens
    from transcript_messages
    group by session_id

),

session_transcripts as (

    select
        transcript_sessions.source_system,
        transcript_sessions.session_id,
        count(*) as transcript_count,
        sum(transcripts.message_count)::bigint as message_count,
        sum(message_totals.estimated_tokens)::bigint as estimated_tokens
    from transcript_sessions
    inner join transcripts
        on transcript_sessions.source_session_id = transcripts.session_id
    left join message_totals
        on transcripts.session_id = message_totals.session_id
    group by transcript_sessions.source_system, transcript_sessions.session_id

),

final as (

    select
        call_totals.*,
        coalesce(tool_usage.tool_call_count, 0) as tool_call_count,
        coalesce(tool_usage.unique_tool_count, 0) as unique_tool_count,
        coalesce(session_transcripts.message_count, 0) as message_count,
        coalesce(session_transcripts.estimated_tokens, 0) as estimated_transcript_tokens,
        coalesce(session_transcripts.transcript_count, 0) > 0 as has_transcript,
        coalesce(tool_usage.tool_usage, '{}'::jsonb) as tool_usage,
        jsonb_build_object(
            'patterns', call_totals.error_pattern_counts,
            'error_classes', call_totals.error_class_counts
        ) as error_breakdown,
        call_totals.behavior_pattern_counts as patterns
    from call_totals
    left join tool_usage
        on call_totals.source_system = tool_usage.source_system
            and call_totals.session_id = tool_usage.session_id
    left join session_transcripts
        on call_totals.source_system = session_transcripts.source_system
            and call_totals.session_id = session_transcripts.session_id

)

select * from final