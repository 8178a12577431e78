{#- Models with a row per session (source system + session id), rebuilt for the sessions that
    changed since the model's build watermark (macros/incremental_days.sql). A session can span
    any number of days and its aggregates are not sums (percentiles, distinct tools, the
    transcript it holds), so a changed session is recomputed from all of its calls.

    Sessions are keyed by (source system, id is null, id or ''): null ids form one session, as
    a `group by` makes them, and the key hashes. -#}

{#- The temp table a build's pre-hooks fill with its changed sessions and its select reads. -#}
{% macro touched_sessions_table() -%}
    {{ this.identifier }}__touched_sessions
{%- endmacro %}

{#- Pre-hook (inside the build's transaction), after the model's lock: the sessions changed
    since the watermark, as they are now and as the model holds them:
    - sessions with calls the calls fact rebuilt since;
    - the model's sessions whose time span meets a day the calls fact rebuilt or raw rows left
      (raw.changed_days): their ids may be gone. Not a day before the retention horizon: the
      calls fact keeps those days as they were (macros/retention.sql);
    - sessions whose collector transcript or transcript messages were loaded since.
    Filled once, so the delete and the insert agree whatever commits in between. -#}
{% macro stage_touched_sessions(calls) %}
    {%- if execute and is_incremental() -%}
    {%- set since = build_watermark() -%}
    create temporary table {{ touched_sessions_table() }} on commit drop as
    with changed_days as (
        {{ changed_call_days(calls, since) }}
    ),

    changed_transcripts as (
        select session_id from {{ source('collector', 'collector_session_transcripts') }}
        where _loaded_at >= {{ since }}
        union
        select session_id from {{ source('collector', 'collector_transcript_messages') }}
        where _loaded_at >= {{ since }}
    ),

    {#- Each part an index lookup per changed day or transcript (`offset 0` keeps the planner
        from turning them into joins over every session and call): as joins they read all of
        history, 19 s of a nightly at 5 M events. A day's sessions are found from the
        newest on (`ended_at`), so an old day costs the sessions since it. #}
    sessions as (
        select source_system, session_id from {{ calls }} where rebuilt_at >= {{ since }}
        union
        select kept.source_system, kept.session_id
        from changed_days
        cross join lateral (
            select source_system, session_id from {{ this }} as spans
            where spans.ended_at >= changed_days.day::timestamptz
                and spans.started_at < changed_days.day::timestamptz + interval '1 day'
            offset 0
        ) as kept
        union
        select calls.source_system, calls.session_id
        from (select distinct session_id from changed_transcripts) as transcripts
        cross join lateral (
            select source_system, session_id from {{ calls }} as transcript_calls
            where transcript_calls.source_system = 'collector'
                and transcript_calls.source_session_id = transcripts.session_id
            offset 0
        ) as calls
    )

    select distinct
        source_system,
        session_id is null as has_no_id,
        coalesce(session_id, '') as session_key
    from sessions;
    {#- Planned without statistics, a temp table is guessed at thousands of rows, and the
        joins of every call against it went to plans that read all of history. -#}
    analyze {{ touched_sessions_table() }}
    {%- else -%}
    select 1
    {%- endif -%}
{% endmacro %}

{#- Pre-hook after it: the changed sessions' rows go; the build inserts them again, computed
    from all of their calls, unless the session no longer exists. -#}
{% macro delete_touched_sessions() %}
    {%- if execute and is_incremental() -%}
    delete from {{ this }} as kept
    using {{ touched_sessions_table() }} as touched
    where kept.source_system = touched.source_system
        and (kept.session_id is null) = touched.has_no_id
        and coalesce(kept.session_id, '') = touched.session_key
    {%- else -%}
    select 1
    {%- endif -%}
{% endmacro %}

{#- The rows of `relation` (with source_system and session_id, indexed on them) in the changed
    sessions, as a query; every row on a full build. One index lookup per session
    (rows_of_sessions): as a semi join against the changed sessions, the planner hashed all of
    history, most of a nightly build at 5 M events. -#}
{% macro rows_in_touched_sessions(relation) -%}
    {%- if is_incremental() -%}
        {%- set touched -%}
            (
                select
                    source_system,
                    case when not has_no_id then session_key end as session_id
                from {{ touched_sessions_table() }}
            ) as touched
        {%- endset -%}
        {{ rows_of_sessions(relation, touched) }}
    {%- else -%}
        select * from {{ relation }}
    {%- endif -%}
{%- endmacro %}

{#- The rows of `relation` whose `column` is one of `ids` (a query of one column), as a query:
    on an incremental build one index lookup per id, as the ids are those of a few changed
    sessions, which the planner cannot know; on a full build a join. -#}
{% macro rows_with_ids(relation, column, ids) -%}
    {%- if is_incremental() -%}
        select found.*
        from (select distinct wanted_id from ({{ ids }}) as ids (wanted_id)) as wanted
        cross join lateral (
            select * from {{ relation }} as id_rows
            where id_rows.{{ column }} = wanted.wanted_id
            offset 0
        ) as found
    {%- else -%}
        select * from {{ relation }}
        where {{ column }} in ({{ ids }})
    {%- endif -%}
{%- endmacro %}
