with

calls as (

    select * from {{ ref('int_agent_calls_unioned') }}

),

transcripts as (

    select * from {{ ref('stg_collector__session_transcripts') }}

),

transcript_messages as (

    select * from {{ ref('stg_collector__transcript_messages') }}

),

message_totals as (

    select
        session_id,
        count(*) as message_count,
        sum(estimated_tokens) as estimated_message_tokens
    from transcript_messages
    group by session_id

),

call_totals as (

    select
        source_system,
        session_id,
        min(tenant_id) as tenant_id,
        count(*) as call_count,
        count(*) filter (where is_tool_call) as tool_call_count,
        count(distinct tool_name) as unique_tool_count,
        count(*) filter (where is_llm_call) as llm_call_count,
        count(*) filter (where decision = 'ERROR') as error_count,
        sum(prompt_tokens) as prompt_tokens,
        sum(completion_tokens) as completion_tokens,
        sum(cached_tokens) as cached_tokens,
        sum(total_tokens) as total_tokens,
        sum(cost_usd) as cost_usd,
        avg(is_success::integer)::numeric as success_rate,
        avg(latency_ms)::numeric as avg_latency_ms,
        percentile_cont(0.95) within group (order by latency_ms)::numeric as p95_latency_ms,
        {{ pattern_counts(error_patterns(), 'reason_text', "decision = 'ERROR'") }}
            as error_pattern_counts,
        jsonb_strip_nulls(jsonb_build_object(
        {%- for error_class in ['transient', 'quota', 'validation', 'upstream', 'policy', 'unknown'] %}
            '{{ error_class }}', nullif(count(*) filter (where error_class = '{{ error_class }}'), 0){% if not loop.last %},{% endif %}
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
        count(*) filter (where not is_success or decision = 'ERROR') as error_count,
        coalesce(sum(latency_ms), 0) as total_time_ms
    from calls
    where tool_name is not null
    group by source_system, session_id, tool_name

),

tool_usage as (

    select
        source_system,
        session_id,
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

final as (

    select
        call_totals.source_system,
        call_totals.session_id,
        call_totals.tenant_id,
        call_totals.call_count,
        coalesce(message_totals.message_count, 0) as message_count,
        call_totals.tool_call_count,
        call_totals.unique_tool_count,
        call_totals.llm_call_count,
        call_totals.error_count,
        call_totals.prompt_tokens,
        call_totals.completion_tokens,
        call_totals.cached_tokens,
        call_totals.total_tokens,
        coalesce(message_totals.estimated_message_tokens, 0) as estimated_transcript_tokens,
        call_totals.cost_usd,
        call_totals.success_rate,
        call_totals.avg_latency_ms,
        call_totals.p95_latency_ms,
        coalesce(tool_usage.tool_usage, '{}'::jsonb) as tool_usage,
        jsonb_build_object(
            'patterns', call_totals.error_pattern_counts,
            'error_classes', call_totals.error_class_counts
        ) as error_breakdown,
        call_totals.behavior_pattern_counts as patterns,
        transcripts.session_id is not null as has_transcript,
        call_totals.started_at,
        call_totals.ended_at
    from call_totals
    -- Transcripts come from the collector only.
    left join transcripts
        on call_totals.session_id = transcripts.session_id
        and call_totals.source_system = 'collector'
    left join message_totals
        on call_totals.session_id = message_totals.session_id
        and call_totals.source_system = 'collector'
    left join tool_usage
        on call_totals.source_system = tool_usage.source_system
        and call_totals.session_id = tool_usage.session_id

)

select * from final
