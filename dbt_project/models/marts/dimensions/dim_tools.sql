{#- One row per tool name, with a category (seed 003's categorizeTool) from its name. -#}
with

tool_calls as (

    select * from {{ ref('int_tool_calls') }}

),

final as (

    select
        tool_name,
        -- first matching rule wins: TodoWrite is orchestration, WebFetch is web
        case
            when tool_name ~* '^mcp__' then 'mcp'
            when tool_name ~* '^(task|todo|agent)' then 'orchestration'
            when tool_name ~* '^web' then 'web'
            when tool_name ~* '^(bash|shell|exec)' then 'execute'
            when tool_name ~* '(edit|write|create|draft|update|delete|refund)' then 'write'
            when tool_name ~* '(read|glob|grep|search|lookup|fetch|get_|classify|rerank)'
                then 'read'
            else 'other'
        end as tool_category,
        count(*) as call_count,
        count(*) filter (where is_error) as error_count,
        count(*) filter (where is_denied) as denied_count,
        count(distinct source_system || ':' || session_id) as session_count,
        count(distinct agent_name) as agent_count,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at
    from tool_calls
    group by tool_name

)

select * from final
