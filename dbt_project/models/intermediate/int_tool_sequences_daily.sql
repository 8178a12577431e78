{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='call_date',
        on_schema_change='fail',
        pre_hook=[
            "select pg_advisory_xact_lock(hashtext('{{ this }}'))",
            "{{ add_first_session_day_if_absent() }}",
            "{{ add_rebuilt_at_if_absent() }}",
        ],
        post_hook=[
            "{{ log_changes(['call_date', 'source_system', 'session_id', 'tools', 'sequence_length',
                'occurrence_count', 'first_seen_at', 'last_seen_at', 'is_session_first_day'],
                ['fct_tool_sequences']) }}",
            "{{ delete_rows_left_on_build_days() }}",
            "{{ delete_days_missing_from(ref('int_tool_calls')) }}",
            "{{ index_if_absent(['source_system', 'session_id']) }}",
            "{{ index_if_absent(['rebuilt_at']) }}",
            "{{ tools_hash_index_if_absent() }}",
            "{{ record_build_watermark() }}",
        ],
        indexes=[{'columns': ['call_date']}],
    )
}}
{#- Tool n-grams (see fct_tool_sequences) per UTC day of their last call and session: the
    partial counts fct_tool_sequences rolls up. An n-gram reads up to four earlier calls of its
    session, which may lie on earlier days, so an incremental run rebuilds every day of each
    session with tool calls on a changed day (macros/incremental_days.sql), reading all of those
    sessions' calls. Its rows' changes are logged for fct_tool_sequences (macros/change_log.sql). -#}
{%- set days = session_days(ref('int_tool_calls')) -%}
with

tool_calls as (

    select * from {{ ref('int_tool_calls') }}

),

-- The sessions with tool calls on the days rebuilt (all of them on a full build); null ids form
-- one session, as in the window below. Read through rows_of_sessions on an incremental build,
-- which the linter, rendering a full one, does not see.
touched_sessions as ( -- noqa: ST03

    select distinct
        source_system,
        session_id
    from tool_calls
    where {{ on_days('call_date', days) }}

),

session_calls as (

    {%- if days is none %}
        select * from tool_calls
    {%- else %}
    {{ rows_of_sessions(ref('int_tool_calls'), 'touched_sessions') }}
    {%- endif %}

),

-- The up-to-five tool calls ending at each call of its session, oldest first.
recent_tools as (

    select
        source_system,
        session_id,
        occurred_at,
        call_date,
        array_agg(tool_name) over (
            partition by source_system, session_id
            order by occurred_at, tool_position, tool_call_id
            rows between 4 preceding and current row
        ) as window_tools
    from session_calls

),

ngrams as (

    select
        recent_tools.source_system,
        recent_tools.session_id,
        recent_tools.occurred_at,
        recent_tools.call_date,
        lengths.n as sequence_length,
        recent_tools.window_tools[
            cardinality(recent_tools.window_tools) - lengths.n + 1:
            cardinality(recent_tools.window_tools)
        ] as tools
    from recent_tools
    inner join generate_series(2, 5) as lengths (n)
        on cardinality(recent_tools.window_tools) >= lengths.n

),

daily_counts as (

    select
        call_date,
        source_system,
        session_id,
        tools,
        sequence_length,
        count(*) as occurrence_count,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at
    from ngrams
    group by call_date, source_system, session_id, tools, sequence_length

),

-- Every day of a session is built together, so its first day with the n-gram is known here,
-- and the rollup counts sessions without a distinct over all of history.
final as (

    select
        *,
        call_date = min(call_date) over (
            partition by source_system, session_id, tools, sequence_length
        ) as is_session_first_day,
        now() as rebuilt_at
    from daily_counts

)

select * from final
where {{ on_days('call_date', days) }}
