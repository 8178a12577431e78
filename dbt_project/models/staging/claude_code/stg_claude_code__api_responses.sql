{#- One row per API response, counted once across every file: one response is logged as
    several lines (one per content block), and resumed, forked and sidechain logs repeat it.
    Key message.id + requestId (message.id alone without a request id); among the copies the
    non-sidechain one wins, then the one with the largest token total. -#}
with

source as (

    select * from {{ source('claude_code', 'claude_code_lines') }}

),

responses as (

    select
        *,
        message_id || ':' || coalesce(request_id, '') as response_key,
        case
            when has_cache_creation_breakdown
                then coalesce(cache_creation_5m_tokens, 0) + coalesce(cache_creation_1h_tokens, 0)
            else coalesce(cache_creation_input_tokens, 0)
        end as cache_creation_tokens
    from source
    where line_type = 'assistant'
        and message_id is not null
        and input_tokens is not null

),

ranked as (

    select
        *,
        coalesce(input_tokens, 0) + coalesce(output_tokens, 0) + cache_creation_tokens
            + coalesce(cache_read_input_tokens, 0) as total_tokens,
        count(*) over (partition by response_key) as copy_count
    from responses

),

chosen as (

    select distinct on (response_key) *
    from ranked
    order by response_key, coalesce(is_sidechain, false), total_tokens desc, file_path,
        line_number

),

-- Subagent traffic belongs to the subagent type of the latest Task call before it in the log.
with_agent as (

    select
        chosen.*,
        (
            select task.tool_use ->> 'subagent_type'
            from source as earlier
            cross join lateral jsonb_array_elements(earlier.tool_uses) as task(tool_use)
            where earlier.file_path = chosen.file_path
                and earlier.line_number < chosen.line_number
                and task.tool_use ->> 'name' = 'Task'
            order by earlier.line_number desc
            limit 1
        ) as subagent_type
    from chosen
    where chosen.is_sidechain

    union all

    select chosen.*, null as subagent_type
    from chosen
    where not coalesce(chosen.is_sidechain, false)

),

renamed as (

    select
        -- ids
        response_key,
        message_id,
        request_id,
        file_session_id as session_id,
        session_id as logged_session_id,
        agent_id,
        uuid as line_uuid,

        -- strings
        'claude_code' as source_system,
        project,
        case
            when coalesce(is_sidechain, false) then coalesce(subagent_type, 'subagent')
            else 'main'
        end as agent_type,
        model as model_name,
        stop_reason,
        file_path,
        version as client_version,
        git_branch,
        cwd as working_dir,

        -- numerics
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
        copy_count,

        -- booleans
        coalesce(is_sidechain, false) as is_sidechain,

        -- timestamps
        occurred_at,
        _loaded_at as loaded_at

    from with_agent

)

select * from renamed
