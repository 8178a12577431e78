{#- Sessions per UTC day of their start, tenant, source, model and complexity class, for every
    day: fct_session_summaries keeps only the sessions after the downsample cutoff, this keeps
    their daily totals for good. Averages are sums over session_count, so they roll up. -#}
with

sessions as (

    select * from {{ ref('int_sessions_scored') }}

),

keyed as (

    select
        *,
        md5(concat_ws('|', {{ utc('started_at') }}::date, tenant_id, source_system,
            coalesce(provider, '~'), coalesce(model, '~'), complexity)) as sessions_daily_key
    from sessions

),

-- Each session's error counts by seed 003 pattern and by metric error class, summed per key.
error_counts as (

    select
        keyed.sessions_daily_key,
        counted.kind,
        counted.key,
        sum(counted.value::bigint) as errors
    from keyed
    cross join lateral (
        select 'patterns' as kind, key, value
        from jsonb_each_text(keyed.error_breakdown -> 'patterns')
        union all
        select 'error_classes', key, value
        from jsonb_each_text(keyed.error_breakdown -> 'error_classes')
    ) as counted
    group by 1, 2, 3

),

error_breakdowns as (

    select
        sessions_daily_key,
        jsonb_build_object(
            'patterns', coalesce(
                jsonb_object_agg(key, errors) filter (where kind = 'patterns'), '{}'),
            'error_classes', coalesce(
                jsonb_object_agg(key, errors) filter (where kind = 'error_classes'), '{}')
        ) as error_breakdown
    from error_counts
    group by 1

),

daily as (

    select
        -- ids
        sessions_daily_key,
        {{ utc('started_at') }}::date as session_date,
        tenant_id,

        -- strings
        source_system,
        provider,
        model,
        complexity,

        -- numerics
        count(*) as session_count,
        count(*) filter (where is_session_derived) as derived_session_count,
        count(*) filter (where has_transcript) as transcript_session_count,
        sum(duration_seconds) as duration_seconds,
        max(duration_seconds) as max_duration_seconds,
        sum(call_count) as call_count,
        sum(message_count) as message_count,
        sum(tool_call_count) as tool_call_count,
        sum(llm_call_count) as llm_call_count,
        sum(error_count) as error_count,
        sum(retry_count) as retry_count,
        sum(prompt_tokens) as prompt_tokens,
        sum(completion_tokens) as completion_tokens,
        sum(cached_tokens) as cached_tokens,
        sum(reasoning_tokens) as reasoning_tokens,
        sum(cache_creation_tokens) as cache_creation_tokens,
        sum(total_tokens) as total_tokens,
        sum(estimated_transcript_tokens) as estimated_transcript_tokens,
        sum(cost_usd) as cost_usd,
        sum(unpriced_llm_call_count) as unpriced_llm_call_count,
        sum(complexity_score) as complexity_score_sum

    from keyed
    group by 1, 2, 3, 4, 5, 6, 7

),

final as (

    select
        daily.*,

        -- json
        coalesce(error_breakdowns.error_breakdown,
            '{"patterns": {}, "error_classes": {}}'::jsonb) as error_breakdown

    from daily
    left join error_breakdowns
        on daily.sessions_daily_key = error_breakdowns.sessions_daily_key

)

select * from final
