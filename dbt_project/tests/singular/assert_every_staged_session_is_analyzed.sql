-- "100% of sessions analyzed" (seed 003): every session id any staging model holds reaches
-- the scored sessions behind fct_session_summaries and fct_sessions_daily, through the session
-- (derived or not) its calls were given.
-- It reads several models; dagster-dbt shows it as a check of the last one built. A run reads
-- the staged rows of the days that changed since it last passed (macros/test_window.sql); the
-- weekly full validation reads them all.
{{ config(meta={'dagster': {'ref': {'name': 'int_sessions_scored'}}}) }}
with

staged_sessions as (

    select distinct
        source_system,
        session_id
    from {{ ref('stg_collector__telemetry_events') }}
    where {{ in_test_window('occurred_at') }}
    union
    select distinct
        source_system,
        session_id
    from {{ ref('stg_landing__collector_events') }}
    where {{ in_test_window('occurred_at') }}
    union
    select distinct
        source_system,
        session_id
    from {{ ref('stg_landing__metric_events') }}
    where {{ in_test_window('occurred_at') }}
    union
    select distinct
        source_system,
        session_id
    from {{ ref('stg_claude_code__api_responses') }}
    where {{ in_test_window('occurred_at') }}

),

call_sessions as (

    select distinct
        source_system,
        source_session_id,
        session_id
    from {{ ref('int_agent_calls_unioned') }}
    where (source_system, source_session_id) in (
            select
                staged_sessions.source_system,
                staged_sessions.session_id
            from staged_sessions
        )

),

summaries as (

    select session_key from {{ ref('int_sessions_scored') }}

)

select staged_sessions.*
from staged_sessions
left join call_sessions
    on staged_sessions.source_system = call_sessions.source_system
        and staged_sessions.session_id = call_sessions.source_session_id
left join summaries
    on summaries.session_key = call_sessions.source_system || ':' || call_sessions.session_id
where summaries.session_key is null
