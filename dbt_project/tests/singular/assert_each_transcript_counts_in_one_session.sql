-- Every collector transcript whose session id has calls is counted in exactly one session: the
-- sessions' message counts and transcript counts add up to the transcripts' own, never more
-- (a transcript attached to each session holding one of its id's calls multiplied them).
-- It reads several models; dagster-dbt shows it as a check of the last one built.
{{ config(meta={'dagster': {'ref': {'name': 'int_sessions_aggregated'}}}) }}
with

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
