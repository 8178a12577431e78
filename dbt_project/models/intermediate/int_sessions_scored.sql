{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=[
            "select pg_advisory_xact_lock(hashtext('{{ this }}'))",
            "{{ add_rebuilt_at_if_absent() }}",
            "{{ consume_changes(ref('int_sessions_aggregated')) }}",
            "{{ delete_changed_sessions() }}",
        ],
        post_hook=[
            "{{ index_if_absent(['source_system', 'session_id']) }}",
            "{{ index_if_absent(['started_at']) }}",
            "{{ index_if_absent(['rebuilt_at']) }}",
            "{{ log_changes(['started_at'], ['fct_sessions_daily']) }}",
        ],
        indexes=[
            {'columns': ['source_system', 'session_id']}, {'columns': ['started_at']},
            {'columns': ['rebuilt_at']},
        ],
    )
}}
{#- A row per session of int_sessions_aggregated, scored. Incremental by session: a run
    scores again the sessions int_sessions_aggregated deleted or inserted since (its change
    log, macros/change_log.sql), and logs its own changes for fct_sessions_daily. -#}
{%- set applies = applies_changes(ref('int_sessions_aggregated')) -%}
with

sessions as (

    {%- if applies %}
        select * from {{ ref('int_sessions_aggregated') }}
        where (source_system, session_id) in (
                select
                    changed.source_system,
                    changed.session_id
                from {{ consumed_changes_table() }} as changed
                where changed.change_kind = 'row'
            )
            and not {{ changes_rebuild_whole() }}
        union all
        -- A session without an id (one per source) matches no `in`.
        select * from {{ ref('int_sessions_aggregated') }}
        where session_id is null
            and source_system in (
                select changed.source_system
                from {{ consumed_changes_table() }} as changed
                where changed.change_kind = 'row' and changed.session_id is null
            )
            and not {{ changes_rebuild_whole() }}
        union all
        select * from {{ ref('int_sessions_aggregated') }}
        where {{ changes_rebuild_whole() }}
    {%- else %}
        select * from {{ ref('int_sessions_aggregated') }}
    {%- endif %}

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
        {{ threshold_points('call_count', var('complexity_message_count')) }}
        + {{ threshold_points('unique_tool_count', var('complexity_unique_tools')) }}
        + {{ threshold_points('coalesce(error_rate, 0)', var('complexity_error_rate')) }}
        + {{ threshold_points('session_seconds', var('complexity_duration_seconds')) }}
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
        {{ complexity_class('complexity_score') }} as complexity,

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
