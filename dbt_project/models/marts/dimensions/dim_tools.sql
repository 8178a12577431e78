{#- One row per tool name, with a category (seed 003's categorizeTool) from its name:
    int_tool_usage_daily rolled up. -#}
with

usage as (

    select * from {{ ref('int_tool_usage_daily') }}

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
        sum(call_count)::bigint as call_count,
        sum(error_count)::bigint as error_count,
        sum(denied_count)::bigint as denied_count,
        count(distinct source_system || ':' || session_id) as session_count,
        count(distinct agent_name) as agent_count,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at
    from usage
    group by tool_name

)

select * from final
