{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=[
            "select pg_advisory_xact_lock(hashtext('{{ this }}'))",
            "{{ stage_touched_sessions(ref('int_agent_calls_unioned')) }}",
            "{{ delete_touched_sessions() }}",
        ],
        post_hook=[
            "{{ log_changes(['source_system', 'session_id'], ['int_sessions_scored']) }}",
            "{{ index_if_absent(['ended_at']) }}",
            "{{ record_build_watermark() }}",
        ],
        indexes=[{'columns': ['source_system', 'session_id']}],
    )
}}
{#- One row per session (source system + session id, derived or as sent), with the seed-003
    session metrics that need more than one pass over its calls. Incremental by session: a run
    recomputes, from all of their calls, the sessions that changed since its last build
    (macros/incremental_sessions.sql). The sessions it deletes and inserts are logged for
    int_sessions_scored (macros/change_log.sql). -#}
{%- do take_build_horizon() -%}
with

calls as (

    {{ rows_in_touched_sessions(ref('int_agent_calls_unioned')) }}

),

tool_calls as (

    {{ rows_in_touched_sessions(ref('int_tool_calls')) }}

),

-- A transcript counts only in a session of its id's calls (session_transcripts below).
transcripts as (

    {{ rows_with_ids(ref('stg_collector__session_transcripts'), 'session_id',
        "select source_session_id from calls where source_system = 'collector'") }}

),

transcript_messages as (

    {{ rows_with_ids(ref('stg_collector__transcript_messages'), 'session_id',
        'select session_id from transcripts') }}

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
        {{ pattern_counts(error_patterns(), 'reason_text', 'is_error') }}
            as error_pattern_counts,
        jsonb_strip_nulls(jsonb_build_object(
            {%- for error_class in [
                'transient', 'quota', 'validation', 'upstream', 'policy', 'unknown'
            ] %}
                '{{ error_class }}',
                nullif(count(*) filter (where error_class = '{{ error_class }}'), 0)
                {%- if not loop.last %},{% endif %}
            {%- endfor %}
        )) as error_class_counts,
        {{ pattern_counts(behavior_patterns(), 'reason_text') }} as behavior_pattern_counts,
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
