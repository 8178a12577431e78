{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=[
            "select pg_advisory_xact_lock(hashtext('{{ this }}'))",
            "{{ claude_code_message_changes() }}",
        ],
        post_hook=[
            "{{ index_if_absent(['message_id']) }}",
            "{{ record_build_watermark() }}",
        ],
        indexes=[
            {'columns': ['occurred_at']}, {'columns': ['response_key']},
            {'columns': ['message_id']},
        ],
    )
}}
{#- A table, unlike the other staging models: choosing each response's copy ranks every line
    sharing its message id, in any log, and a filter on the chosen copy's time cannot reach the
    raw index through it. As a view it was computed again by each of its readers (dbt tests, GX
    suite, the models built from it), over all of history each time. Incremental by message
    id: a build counts again the messages of the lines written or removed since the last
    (macros/claude_code_changes.sql), read by time through its index. -#}
{%- do take_build_horizon() -%}
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

{{ claude_code_responses('daily', incremental=is_incremental()) }},

-- Subagent traffic belongs to the subagent type of the latest Task call before it in the log.
with_agent as (

    select
        chosen.*,
        (
            select task_call.tool_use ->> 'subagent_type'
            from {{ source('claude_code', 'claude_code_lines') }} as earlier
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
        {{ claude_code_response_columns() }},
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
