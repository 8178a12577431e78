with

usage_lines as (

    select
        *,
        coalesce(usage_at, occurred_at) as used_at,
        coalesce(session_id, file_session_id) as dedupe_session_id,
        case when speed = 'fast' then model || '-fast' else model end as priced_model,
        case
            when has_cache_creation_breakdown
                then coalesce(cache_creation_5m_tokens, 0) + coalesce(cache_creation_1h_tokens, 0)
            else coalesce(cache_creation_input_tokens, 0)
        end as cache_creation_tokens
    from (select lines.*
    from "warehouse"."raw"."claude_code_lines" as lines
    where exists (select 1 from _atw_changed_claude_code_messages where whole)
    union all
    select lines.*
    from "warehouse"."raw"."claude_code_lines" as lines
    where lines.message_id = any(array(
        select message_id from _atw_changed_claude_code_messages
        where message_id is not null
    ))
    union all
    select lines.*
    from _atw_changed_claude_code_messages as changed
    inner join "warehouse"."raw"."claude_code_lines" as lines
        on lines.file_path = changed.file_path
        and lines.line_number = changed.line_number
    where changed.message_id is null and lines.message_id is null) as lines
    where usage_countable

),

keyed as (

    select
        *,
        case
            when message_id is null then 'line:' || file_path || ':' || line_number
            when request_id is not null then message_id || ':' || request_id
            else message_id || ':' || dedupe_session_id || ':' || to_char(used_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS')
        end as response_key,
        coalesce(input_tokens, 0) + coalesce(output_tokens, 0) + cache_creation_tokens
            + coalesce(cache_read_input_tokens, 0) as total_tokens
    from usage_lines

),

ranked as (

    select
        *,
        count(*) over (partition by response_key) as copy_count,
        row_number() over (
            partition by response_key order by coalesce(is_sidechain, false), total_tokens desc, speed is null, file_path collate "C",
    line_number
        ) as copy_rank
    from keyed

),

-- `/btw`: one message id under several request ids in one session, a sidechain among them.
side_questions as (

    select
        *,
        case when message_id is not null and request_id is not null then row_number() over (
            partition by message_id, dedupe_session_id,
                request_id is not null
            order by coalesce(is_sidechain, false), total_tokens desc, speed is null, file_path collate "C",
    line_number
        ) end as side_rank
    from ranked
    where copy_rank = 1

),

chosen as (

    select * from side_questions
    where side_rank is null or side_rank = 1 or not coalesce(is_sidechain, false)

),

-- Subagent traffic belongs to the subagent type of the latest Task call before it in the log.
with_agent as (

    select
        chosen.*,
        (
            select task_call.tool_use ->> 'subagent_type'
            from "warehouse"."raw"."claude_code_lines" as earlier
            cross join
                lateral jsonb_array_elements(earlier.tool_uses)
                with ordinality as task_call (tool_use, block_number)
            where earlier.file_path = chosen.file_path
                and earlier.line_number < chosen.line_number
                and task_call.tool_use ->> 'name' = 'Task'
            -- a line with two Task calls: the later one (any build picks the same)
            order by earlier.line_number desc, task_call.block_number desc
            limit 1
        ) as subagent_type
    from chosen
    where chosen.is_sidechain or chosen.usage_source = 'progress'

    union all

    select
        chosen.*,
        null as subagent_type
    from chosen
    where not coalesce(chosen.is_sidechain, false) and chosen.usage_source = 'message'

),

renamed as (

    select
        response_key,
        message_id,
        request_id,
        file_session_id as session_id,
        project,
        priced_model as model_name,
        file_path,
        coalesce(input_tokens, 0) as input_tokens,
        coalesce(output_tokens, 0) as output_tokens,
        cache_creation_tokens,
        case
            when has_cache_creation_breakdown then coalesce(cache_creation_5m_tokens, 0)
            else cache_creation_tokens
        end as cache_creation_5m_tokens,
        coalesce(cache_creation_1h_tokens, 0) as cache_creation_1h_tokens,
        coalesce(cache_read_input_tokens, 0) as cache_read_tokens,
        total_tokens,
        cost_usd as logged_cost_usd,
        copy_count,
        coalesce(is_sidechain, false) as is_sidechain,
        used_at as occurred_at,
        _loaded_at as loaded_at,
        session_id as logged_session_id,
        agent_id,
        uuid as line_uuid,
        'claude_code' as source_system,
        case
            when coalesce(is_sidechain, false) or usage_source = 'progress'
                then coalesce(subagent_type, 'subagent')
            else 'main'
        end as agent_type,
        stop_reason,
        usage_source,
        speed,
        version as client_version,
        git_branch,
        cwd as working_dir
    from with_agent

)

select * from renamed