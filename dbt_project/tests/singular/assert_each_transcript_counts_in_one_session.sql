-- Every collector transcript whose session id has calls is counted in exactly one session: the
-- sessions' message counts and transcript counts add up to the transcripts' own, never more
-- (a transcript attached to each session holding one of its id's calls multiplied them).
-- It reads several models; dagster-dbt shows it as a check of the last one built. A run reads
-- the sessions that changed since it last passed (ATW_DBT_TESTS_PASSED_FROM, and the days in
-- ATW_DBT_TEST_DAYS: macros/test_window.sql); the weekly full validation reads them all.
{{ config(meta={'dagster': {'ref': {'name': 'int_sessions_aggregated'}}}) }}
{%- set since = tests_passed_from() %}
{%- set days = test_window_days() %}
{#- A run sums over some of the sessions only. Any set of sessions, taken with the transcripts
    of every id their calls hold, must balance: a session counts the transcripts of its calls'
    ids and nothing else, and all the calls of an id share one session (its own id, or a
    derived one when the id has a single call; in the 5 M benchmark none of 2.1 M collector
    ids has calls in two sessions). The set taken is every session that can have changed since
    the tests passed and, for each of their ids or ids loaded since with a transcript, every
    session holding its calls on any day: a transcript counted in two sessions brings both.
    Each part is an index lookup per key: `offset 0` keeps the planner from joining all of
    history instead (every call and session, 5 s at 5 M events). -#}
with

{% if since is none -%}

    transcripts as (

        select * from {{ ref('stg_collector__session_transcripts') }}
        where session_id in (
                select calls.source_session_id from {{ ref('int_agent_calls_unioned') }} as calls
                where calls.source_system = 'collector'
            )

    ),

    sessions as (

        select * from {{ ref('int_sessions_aggregated') }}

    ),

{%- else -%}

    rebuilt_calls as (

        select
            source_system,
            source_session_id,
            session_id
        from {{ ref('int_agent_calls_unioned') }}
        where rebuilt_at >= {{ since }}

    ),

    -- The ids with a transcript written since: those of the calls rebuilt that have one, and
    -- those whose transcript was loaded or updated since (an upsert stamps `_loaded_at`, which
    -- the staging view drops).
    changed_transcript_ids as (

        select found.session_id
        from (
            select distinct source_session_id from rebuilt_calls
            where source_system = 'collector'
        ) as rebuilt_ids
        cross join
            lateral (
                select transcripts.session_id
                from {{ ref('stg_collector__session_transcripts') }} as transcripts
                where transcripts.session_id = rebuilt_ids.source_session_id
                offset 0 -- noqa: AM09
            ) as found
        union
        select session_id from {{ source('collector', 'collector_session_transcripts') }}
        where _loaded_at >= {{ since }}

    ),

    -- The sessions of the calls rebuilt; every session holding a call of a changed transcript's
    -- id, on any day, so that an id split over two sessions brings both; and the sessions the
    -- model holds over a changed day, so that one left behind when its calls went to another
    -- session is summed too (the sessions macros/incremental_sessions.sql rebuilds).
    window_sessions as (

        select
            source_system,
            session_id
        from rebuilt_calls
        union
        select
            id_calls.source_system,
            id_calls.session_id
        from changed_transcript_ids
        cross join
            lateral (
                select
                    calls.source_system,
                    calls.session_id
                from {{ ref('int_agent_calls_unioned') }} as calls
                where calls.source_system = 'collector'
                    and calls.source_session_id = changed_transcript_ids.session_id
                offset 0 -- noqa: AM09
            ) as id_calls
        {%- if days %}
            union
            select
                spans.source_system,
                spans.session_id
            from unnest({{ date_array(days) }}) as changed_days (day)
            cross join
                lateral (
                    select
                        kept.source_system,
                        kept.session_id
                    from {{ ref('int_sessions_aggregated') }} as kept
                    where kept.ended_at >= changed_days.day::timestamp at time zone 'UTC'
                        and kept.started_at < (changed_days.day + 1)::timestamp at time zone 'UTC'
                    offset 0 -- noqa: AM09
                ) as spans
        {%- endif %}

    ),

    -- Every collector id with a call in those sessions. The session of the calls without an id
    -- has no transcript: none matches a null id.
    window_ids as (

        select distinct session_calls.source_session_id
        from window_sessions
        cross join
            lateral (
                select calls.source_session_id
                from {{ ref('int_agent_calls_unioned') }} as calls
                where calls.source_system = window_sessions.source_system
                    and calls.session_id = window_sessions.session_id
                offset 0 -- noqa: AM09
            ) as session_calls
        where window_sessions.source_system = 'collector'

    ),

    transcripts as (

        select found.*
        from window_ids
        cross join
            lateral (
                select id_transcripts.*
                from {{ ref('stg_collector__session_transcripts') }} as id_transcripts
                where id_transcripts.session_id = window_ids.source_session_id
                offset 0 -- noqa: AM09
            ) as found

    ),

    sessions as (

        select found.*
        from window_sessions
        cross join
            lateral (
                select kept.*
                from {{ ref('int_sessions_aggregated') }} as kept
                where kept.source_system = window_sessions.source_system
                    and kept.session_id = window_sessions.session_id
                offset 0 -- noqa: AM09
            ) as found

    ),

{%- endif %}

expected as (

    select
        count(*) as transcript_count,
        coalesce(sum(message_count), 0) as message_count
    from transcripts

),

counted as (

    select
        count(*) filter (where has_transcript) as transcript_sessions,
        coalesce(sum(message_count), 0) as message_count
    from sessions

)

select
    expected.*,
    counted.*
from expected
cross join counted
where expected.message_count <> counted.message_count
    or counted.transcript_sessions > expected.transcript_count
