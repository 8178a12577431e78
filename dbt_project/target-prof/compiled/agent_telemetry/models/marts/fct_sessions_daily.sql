with

sessions as (
        select scored.*
        from (select distinct ((started_at at time zone 'UTC'))::date as day
    from fct_sessions_daily__consumed_changes
    where change_kind = 'row') as changed
        inner join "warehouse"."intermediate"."int_sessions_scored" as scored
            on scored.started_at >= ((changed.day)::timestamp at time zone 'UTC')
                and scored.started_at < ((changed.day + 1)::timestamp at time zone 'UTC')
        where not (select count(*) > 0 from fct_sessions_daily__consumed_changes where change_kind = 'whole')
        union all
        select * from "warehouse"."intermediate"."int_sessions_scored"
        where (select count(*) > 0 from fct_sessions_daily__consumed_changes where change_kind = 'whole')

),

keyed as (

    select
        *,
        -- to_char: the key must not depend on the server's DateStyle.
        md5(concat_ws(
            '|', to_char((started_at at time zone 'UTC'), 'YYYY-MM-DD'), tenant_id,
            source_system, coalesce(provider, '~'), coalesce(model, '~'), complexity
        ))
            as sessions_daily_key
    from sessions

),

-- Each session's counts by seed 003 error pattern, by metric error class and by behaviour
-- pattern (retries, fallbacks, ...), summed per key.
counts as (

    select
        keyed.sessions_daily_key,
        counted.kind,
        counted.key,
        sum(counted.value::bigint) as occurrences
    from keyed
    cross join
        lateral (
            select
                'patterns' as kind,
                key,
                value
            from jsonb_each_text(keyed.error_breakdown -> 'patterns')
            union all
            select
                'error_classes' as kind,
                key,
                value
            from jsonb_each_text(keyed.error_breakdown -> 'error_classes')
            union all
            select
                'behaviour' as kind,
                key,
                value
            from jsonb_each_text(keyed.patterns)
        ) as counted
    group by 1, 2, 3

),

summed_counts as (

    select
        sessions_daily_key,
        jsonb_build_object(
            'patterns', coalesce(
                jsonb_object_agg(key, occurrences) filter (where kind = 'patterns'), '{}'
            ),
            'error_classes', coalesce(
                jsonb_object_agg(key, occurrences) filter (where kind = 'error_classes'), '{}'
            )
        ) as error_breakdown,
        coalesce(jsonb_object_agg(key, occurrences) filter (where kind = 'behaviour'), '{}')
            as patterns
    from counts
    group by 1

),

daily as (

    select
        -- ids
        sessions_daily_key,
        (started_at at time zone 'UTC')::date as session_date,
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
        coalesce(
            summed_counts.error_breakdown,
            '{"patterns": {}, "error_classes": {}}'::jsonb
        ) as error_breakdown,
        coalesce(summed_counts.patterns, '{}'::jsonb) as patterns

    from daily
    left join summed_counts
        on daily.sessions_daily_key = summed_counts.sessions_daily_key

)

select * from final