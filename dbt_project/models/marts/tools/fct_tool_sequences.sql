{#- Consecutive tool calls within a session as n-grams of length 2 to 5 (seed 003's
    detectToolSequences, counted per n-gram rather than per growing prefix), e.g. Read->Edit,
    rolled up from their counts per day and session (int_tool_sequences_daily). -#}
with

session_counts as (

    select * from {{ ref('int_tool_sequences_daily') }}

),

final as (

    select
        -- ids
        array_to_string(tools, '->') as tool_sequence,

        -- strings
        tools[1] as first_tool,
        tools[cardinality(tools)] as last_tool,

        -- numerics
        sequence_length,
        sum(occurrence_count)::bigint as occurrence_count,
        -- A session with no id is none: it counted as none when this was a distinct count.
        count(*) filter (
            where is_session_first_day and session_id is not null
        ) as session_count,

        -- timestamps
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at

    from session_counts
    group by tools, sequence_length

)

select * from final
