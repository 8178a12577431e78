{#- Consecutive tool calls within a session as n-grams of length 2 to 5 (seed 003's
    detectToolSequences, counted per n-gram rather than per growing prefix), e.g. Read->Edit. -#}
with

tool_calls as (

    select * from {{ ref('int_tool_calls') }}

),

-- The up-to-five tool calls ending at each call of its session, oldest first.
recent_tools as (

    select
        source_system,
        session_id,
        occurred_at,
        array_agg(tool_name) over (
            partition by source_system, session_id
            order by occurred_at, tool_position, tool_call_id
            rows between 4 preceding and current row
        ) as window_tools
    from tool_calls

),

ngrams as (

    select
        recent_tools.source_system,
        recent_tools.session_id,
        recent_tools.occurred_at,
        lengths.n as sequence_length,
        recent_tools.window_tools[
            cardinality(recent_tools.window_tools) - lengths.n + 1:
            cardinality(recent_tools.window_tools)
        ] as tools
    from recent_tools
    inner join generate_series(2, 5) as lengths (n)
        on cardinality(recent_tools.window_tools) >= lengths.n

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
        count(*) as occurrence_count,
        count(distinct source_system || ':' || session_id) as session_count,

        -- timestamps
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at

    from ngrams
    group by tools, sequence_length

)

select * from final
