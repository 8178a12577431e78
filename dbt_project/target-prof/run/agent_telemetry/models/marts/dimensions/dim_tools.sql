
  
    

  create  table "warehouse"."marts"."dim_tools__dbt_tmp"
  
  
    as
  
  (
    with

usage as not materialized (

    select * from "warehouse"."intermediate"."int_tool_usage_daily"

),

totals as (

    select
        tool_name,
        sum(call_count)::bigint as call_count,
        sum(error_count)::bigint as error_count,
        sum(denied_count)::bigint as denied_count,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at
    from usage
    group by tool_name

),

tool_sessions as (

    select distinct
        tool_name,
        source_system,
        session_id
    from usage

),

session_counts as (

    -- A session without an id (or source) is none.
    select
        tool_name,
        count(*) filter (
            where source_system is not null and session_id is not null
        ) as session_count
    from tool_sessions
    group by tool_name

),

tool_agents as (

    select distinct
        tool_name,
        agent_name
    from usage

),

agent_counts as (

    select
        tool_name,
        count(agent_name) as agent_count
    from tool_agents
    group by tool_name

),

final as (

    select
        totals.tool_name,
        -- first matching rule wins: TodoWrite is orchestration, WebFetch is web
        case
            when totals.tool_name ~* '^mcp__' then 'mcp'
            when totals.tool_name ~* '^(task|todo|agent)' then 'orchestration'
            when totals.tool_name ~* '^web' then 'web'
            when totals.tool_name ~* '^(bash|shell|exec)' then 'execute'
            when totals.tool_name ~* '(edit|write|create|draft|update|delete|refund)'
                then 'write'
            when totals.tool_name ~* '(read|glob|grep|search|lookup|fetch|get_|classify|rerank)'
                then 'read'
            else 'other'
        end as tool_category,
        totals.call_count,
        totals.error_count,
        totals.denied_count,
        session_counts.session_count,
        agent_counts.agent_count,
        totals.first_seen_at,
        totals.last_seen_at
    from totals
    inner join session_counts
        on totals.tool_name is not distinct from session_counts.tool_name
    inner join agent_counts
        on totals.tool_name is not distinct from agent_counts.tool_name

)

select * from final
  );
  