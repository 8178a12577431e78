{#- Claude Code usage per session, as ccusage's session report counts it: a session is a log's
    project and session from its path (subagent logs in their parent's), responses counted by
    the session rules (int_claude_code_session_responses_priced); sessions without tokens are
    left out, as ccusage leaves them out. -#}
with

responses as (

    select * from {{ ref('int_claude_code_session_responses_priced') }}

),

final as (

    select
        -- ids
        project,
        session_id,

        -- strings
        string_agg(distinct model_name, ',' order by model_name)
        filter (where model_name <> '<synthetic>') as models,

        -- numerics
        {{ claude_code_usage_sums() }},

        -- timestamps
        min(occurred_at) as first_activity_at,
        max(occurred_at) as last_activity_at

    from responses
    group by project, session_id
    having sum(total_tokens) > 0

)

select * from final
