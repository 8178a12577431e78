{#- One row per Claude Code API response, counted once across every file, by the rules of
    ccusage 20.0.24's daily report (the most complete of its reports, so the one the warehouse
    counts by). One response is logged as several lines (one per content block), and resumed,
    forked, subagent and `progress` lines repeat it:
    - with a request id, the copies of message.id + requestId are one response, in any file or
      session;
    - without one, the copies of message.id in one session at one millisecond;
    - a line without message.id is a response of its own;
    - a sidechain copy of a message.id under another request id in the same session is the
      same response (`/btw` side questions re-log their parent's response).
    Among copies the non-sidechain one wins, then the one with most tokens (macros/claude_code.sql).
    The relayed usage of `progress` lines counts: it is the only record of a subagent's calls
    when the subagent's own log is missing. -#}
with

usage_lines as (

    {{ claude_code_usage_lines(with_relayed=true) }}

),

keyed as (

    select
        *,
        case
            when message_id is null then 'line:' || file_path || ':' || line_number
            when request_id is not null then message_id || ':' || request_id
            else message_id || ':' || dedupe_session_id || ':' || {{ claude_code_ms('used_at') }}
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
            partition by response_key order by {{ claude_code_copy_order() }}
        ) as copy_rank
    from keyed

),

-- `/btw`: one message id under several request ids in one session, a sidechain among them.
side_questions as (

    select
        *,
        case when message_id is not null and request_id is not null then row_number() over (
            partition by message_id, dedupe_session_id, request_id is not null
            order by {{ claude_code_copy_order() }}
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
            select task.tool_use ->> 'subagent_type'
            from {{ source('claude_code', 'claude_code_lines') }} as earlier
            cross join lateral jsonb_array_elements(earlier.tool_uses) as task(tool_use)
            where earlier.file_path = chosen.file_path
                and earlier.line_number < chosen.line_number
                and task.tool_use ->> 'name' = 'Task'
            order by earlier.line_number desc
            limit 1
        ) as subagent_type
    from chosen
    where chosen.is_sidechain or chosen.usage_source = 'progress'

    union all

    select chosen.*, null as subagent_type
    from chosen
    where not coalesce(chosen.is_sidechain, false) and chosen.usage_source = 'message'

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
            when coalesce(is_sidechain, false) or usage_source = 'progress'
                then coalesce(subagent_type, 'subagent')
            else 'main'
        end as agent_type,
        priced_model as model_name,
        stop_reason,
        usage_source,
        speed,
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
        cost_usd as logged_cost_usd,
        copy_count,

        -- booleans
        coalesce(is_sidechain, false) as is_sidechain,

        -- timestamps
        used_at as occurred_at,
        _loaded_at as loaded_at

    from with_agent

)

select * from renamed
