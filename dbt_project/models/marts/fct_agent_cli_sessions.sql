{#- One row per agent CLI session, with ccusage's session key for that CLI (Codex: the
    rollout's path below sessions/ without .jsonl; Gemini: the chat's sessionId; OpenCode:
    sessionID; Copilot: the session-state folder or the OTel session attribute), counted as
    ccusage's session report counts it. -#}
with

usage as (

    select * from {{ ref('int_agent_cli_usage_priced') }}
    where counts_in_session

),

final as (

    select
        md5(agent_cli || '|' || session_id) as agent_cli_session_key,
        agent_cli,
        session_id,
        min(project) as project,
        string_agg(distinct model_name, ', ' order by model_name) as models_used,
        {{ agent_cli_usage_sums() }},
        min(occurred_at) as first_activity_at,
        max(occurred_at) as last_activity_at
    from usage
    group by agent_cli, session_id

)

select * from final
