with

use_lines as (

    
    select lines.*, null::text as changed_tool_use_id
    from "warehouse"."raw"."claude_code_lines" as lines
    where exists (select 1 from _atw_changed_claude_code_tool_uses where whole)
    union all
    select lines.*, changed.tool_use_id
    from _atw_changed_claude_code_tool_uses as changed
    cross join lateral (
        select * from "warehouse"."raw"."claude_code_lines" as candidate
        where candidate.tool_uses @> jsonb_build_array(
                jsonb_build_object('id', changed.tool_use_id))
            and jsonb_typeof(candidate.tool_uses) = 'array'
        offset 0
    ) as lines
    where changed.tool_use_id is not null

),

result_lines as (

    
    select lines.*, null::text as changed_tool_use_id
    from "warehouse"."raw"."claude_code_lines" as lines
    where exists (select 1 from _atw_changed_claude_code_tool_uses where whole)
    union all
    select lines.*, changed.tool_use_id
    from _atw_changed_claude_code_tool_uses as changed
    cross join lateral (
        select * from "warehouse"."raw"."claude_code_lines" as candidate
        where candidate.tool_results @> jsonb_build_array(
                jsonb_build_object('tool_use_id', changed.tool_use_id))
            and jsonb_typeof(candidate.tool_results) = 'array'
        offset 0
    ) as lines
    where changed.tool_use_id is not null

),

tool_uses as (

    select distinct on (tool_use.block ->> 'id')
        tool_use.block ->> 'id' as tool_use_id,
        tool_use.block ->> 'name' as tool_name,
        log_line.message_id || ':' || coalesce(log_line.request_id, '') as response_key,
        log_line.session_id,
        log_line.project,
        log_line.occurred_at,
        log_line._loaded_at
    from use_lines as log_line
    cross join lateral jsonb_array_elements(log_line.tool_uses) as tool_use (block)
    where jsonb_typeof(log_line.tool_uses) = 'array'
        and tool_use.block ->> 'id' is not null
        and log_line.message_id is not null
        -- A line found for one changed tool use may hold others: only the changed one counts.
        and coalesce(log_line.changed_tool_use_id = tool_use.block ->> 'id', true)
    order by
        tool_use.block ->> 'id', coalesce(log_line.is_sidechain, false), log_line.occurred_at,
        log_line.file_path, log_line.line_number

),

tool_results as (

    select distinct on (tool_result.block ->> 'tool_use_id')
        tool_result.block ->> 'tool_use_id' as tool_use_id,
        coalesce((tool_result.block ->> 'is_error')::boolean, false) as is_error,
        log_line.occurred_at as result_at
    from result_lines as log_line
    cross join lateral jsonb_array_elements(log_line.tool_results) as tool_result (block)
    where jsonb_typeof(log_line.tool_results) = 'array'
        and coalesce(
            log_line.changed_tool_use_id = tool_result.block ->> 'tool_use_id', true
        )
    order by
        tool_result.block ->> 'tool_use_id', log_line.occurred_at, log_line.file_path,
        log_line.line_number

),

renamed as (

    select
        -- ids
        tool_uses.tool_use_id,
        tool_uses.response_key,
        tool_uses.session_id,

        -- strings
        'claude_code' as source_system,
        tool_uses.project,
        tool_uses.tool_name,

        -- numerics: unknown when the clocks of the two lines disagree or lie far apart
        case
            when tool_results.result_at - tool_uses.occurred_at
                between interval '0' and interval '24 days'
                then (
                    extract(epoch from tool_results.result_at - tool_uses.occurred_at)
                    * 1000
                )::integer
        end as latency_ms,

        -- booleans
        tool_results.tool_use_id is not null as has_result,
        coalesce(tool_results.is_error, false) as is_error,

        -- timestamps
        tool_uses.occurred_at,
        tool_results.result_at,
        tool_uses._loaded_at as loaded_at

    from tool_uses
    left join tool_results
        on tool_uses.tool_use_id = tool_results.tool_use_id

)

select * from renamed