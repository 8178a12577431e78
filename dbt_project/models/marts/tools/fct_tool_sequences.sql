{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['tool_sequence', 'source_system'],
        on_schema_change='fail',
        pre_hook=[
            "{{ add_column_if_absent('source_system', 'text') }}",
            "{{ consume_changes(ref('int_tool_sequences_daily')) }}",
        ],
        post_hook=[
            "delete from {{ this }} where occurrence_count = 0",
            "{{ index_if_absent(['tool_sequence', 'source_system']) }}",
        ],
        indexes=[{'columns': ['tool_sequence', 'source_system']}],
    )
}}
{#- Consecutive tool calls within a session as n-grams of length 2 to 5 (seed 003's
    detectToolSequences, counted per n-gram rather than per growing prefix), e.g. Read->Edit,
    per source, rolled up from their counts per day and session (int_tool_sequences_daily).
    Incremental by exact deltas: a run applies the rows int_tool_sequences_daily deleted and
    inserted since (its change log, macros/change_log.sql) to the n-grams they belong to.
    Sums and counts add up. The earliest and latest times stay unless the row holding one
    went: then that n-gram's rows are read again. An n-gram left with no row goes (post-hook).
    A table from before `source_system` was a grain column gets it (last, where a new build puts
    it) and is rolled up again whole from int_tool_sequences_daily, which keeps every day. -#}
{%- set applies = applies_changes(
    ref('int_tool_sequences_daily'), whole=built_without_column('source_system')) -%}
with

session_counts as (

    select * from {{ ref('int_tool_sequences_daily') }}

),

{% if applies -%}
    changes as (

        select * from {{ consumed_changes_table() }}

    ),

    -- A row deleted and inserted again unchanged (a rebuilt day's unchanged sessions) cancels out:
    -- what is left went (net < 0, it was there at the last build) or came (net > 0, it is there
    -- now).
    net_rows as (

        select
            source_system,
            tools,
            session_id,
            occurrence_count,
            first_seen_at,
            last_seen_at,
            is_session_first_day,
            sum(sign) as net
        from changes
        where change_kind = 'row'
        group by
            call_date,
            source_system,
            session_id,
            tools,
            sequence_length,
            occurrence_count,
            first_seen_at,
            last_seen_at,
            is_session_first_day
        having sum(sign) <> 0

    ),

    deltas as (

        select
            source_system,
            tools,
            sum(net * occurrence_count) as occurrence_delta,
            coalesce(
                sum(net) filter (where is_session_first_day and session_id is not null), 0
            ) as session_delta,
            min(first_seen_at) filter (where net > 0) as added_first_seen_at,
            max(last_seen_at) filter (where net > 0) as added_last_seen_at,
            min(first_seen_at) filter (where net < 0) as removed_first_seen_at,
            max(last_seen_at) filter (where net < 0) as removed_last_seen_at
        from net_rows
        group by source_system, tools

    ),

    current_rows as (

        select * from {{ this }}
        where tool_sequence = any(array(select array_to_string(deltas.tools, '->') from deltas))
            and source_system in (select deltas.source_system from deltas)

    ),

    -- An extreme is known when an added row reaches it, or when no removed row held it; else
    -- (null) the n-gram's rows are read again.
    applied as (

        select
            deltas.source_system,
            deltas.tools,
            coalesce(current_rows.occurrence_count, 0) + deltas.occurrence_delta
                as occurrence_count,
            coalesce(current_rows.session_count, 0) + deltas.session_delta as session_count,
            case
                when current_rows.first_seen_at is null
                    or deltas.added_first_seen_at <= current_rows.first_seen_at
                    then deltas.added_first_seen_at
                when deltas.removed_first_seen_at is null
                    or deltas.removed_first_seen_at > current_rows.first_seen_at
                    then current_rows.first_seen_at
            end as first_seen_at,
            case
                when current_rows.last_seen_at is null
                    or deltas.added_last_seen_at >= current_rows.last_seen_at
                    then deltas.added_last_seen_at
                when deltas.removed_last_seen_at is null
                    or deltas.removed_last_seen_at < current_rows.last_seen_at
                    then current_rows.last_seen_at
            end as last_seen_at
        from deltas
        left join current_rows
            on deltas.source_system = current_rows.source_system
                and array_to_string(deltas.tools, '->') = current_rows.tool_sequence

    ),

    unknown_extremes as (

        select
            source_system,
            tools,
            first_seen_at is null as first_unknown,
            last_seen_at is null as last_unknown
        from applied
        where occurrence_count > 0 and (first_seen_at is null or last_seen_at is null)

    ),

    -- Through int_tool_sequences_daily's index on the hash of `tools` and `last_seen_at`, a
    -- lateral per n-gram (a join would read the whole table): the latest row alone, and, only
    -- when the earliest is unknown (a removed row of an old day held it), all of its rows.
    reread_extremes as (

        select
            unknown_extremes.source_system,
            unknown_extremes.tools,
            earliest.first_seen_at,
            latest.last_seen_at
        from unknown_extremes
        left join lateral (
            select min(daily.first_seen_at) as first_seen_at
            from {{ ref('int_tool_sequences_daily') }} as daily
            where unknown_extremes.first_unknown
                and hash_array(daily.tools) = hash_array(unknown_extremes.tools)
                and daily.tools = unknown_extremes.tools
                and daily.source_system = unknown_extremes.source_system
        ) as earliest on true
        left join lateral (
            select daily.last_seen_at
            from {{ ref('int_tool_sequences_daily') }} as daily
            where unknown_extremes.last_unknown
                and hash_array(daily.tools) = hash_array(unknown_extremes.tools)
                and daily.tools = unknown_extremes.tools
                and daily.source_system = unknown_extremes.source_system
                and daily.last_seen_at is not null
            order by daily.last_seen_at desc
            limit 1
        ) as latest on true

    ),

    -- Read by rolled_up on an incremental build, which the linter, rendering a full one, does
    -- not see.
    rolled_up_by_changes as ( -- noqa: ST03

        select
            applied.source_system,
            applied.tools,
            applied.occurrence_count,
            applied.session_count,
            coalesce(applied.first_seen_at, reread_extremes.first_seen_at) as first_seen_at,
            coalesce(applied.last_seen_at, reread_extremes.last_seen_at) as last_seen_at
        from applied
        left join reread_extremes
            on applied.source_system = reread_extremes.source_system
                and applied.tools = reread_extremes.tools
        where not {{ changes_rebuild_whole() }}

    ),

{% endif -%}
rolled_up_from_table as (

    select
        source_system,
        tools,
        sum(occurrence_count)::bigint as occurrence_count,
        -- A session with no id is none: it counted as none when this was a distinct count.
        count(*) filter (
            where is_session_first_day and session_id is not null
        ) as session_count,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at
    from session_counts
    {%- if applies %}
        where {{ changes_rebuild_whole() }}
    {%- endif %}
    group by source_system, tools

),

rolled_up as (

    select * from rolled_up_from_table
    {%- if applies %}
        union all
        select * from rolled_up_by_changes
    {%- endif %}

),

final as (

    select
        -- ids
        array_to_string(tools, '->') as tool_sequence,

        -- strings
        tools[1] as first_tool,
        tools[cardinality(tools)] as last_tool,

        -- numerics
        cardinality(tools) as sequence_length,
        occurrence_count::bigint as occurrence_count,
        session_count::bigint as session_count,

        -- timestamps
        first_seen_at,
        last_seen_at,

        -- grain: last, where the upgrade's `add column` puts it
        source_system

    from rolled_up

)

select * from final
