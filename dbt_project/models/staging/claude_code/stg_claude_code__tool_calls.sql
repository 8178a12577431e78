{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=[
            "select pg_advisory_xact_lock(hashtext('{{ this }}'))",
            "{{ claude_code_tool_use_changes() }}",
        ],
        post_hook=[
            "{{ index_if_absent(['tool_use_id']) }}",
            "{{ record_build_watermark() }}",
        ],
        indexes=[
            {'columns': ['occurred_at']}, {'columns': ['response_key']},
            {'columns': ['tool_use_id']},
        ],
    )
}}
{#- A table, unlike the other staging models: counting each tool use once ranks every line that
    holds it, in any log, and a filter on the chosen copy's time cannot reach the raw index
    through it. As a view it was computed again by each of its readers (dbt tests, GX suite,
    the models built from it), over all of history each time. Incremental by tool use id: a
    build counts again the tool uses of the lines written or removed since the last, reading
    each one's lines through the GIN indexes on `tool_uses` and `tool_results`
    (macros/claude_code_changes.sql). -#}
{%- do take_build_horizon() -%}
{#- One row per tool call of a Claude Code log: each tool_use block counted once (resumed and
    forked logs repeat it; the non-sidechain, earliest copy wins), with its tool_result. -#}
with

use_lines as (

    {{ claude_code_lines_with_tool_blocks('tool_uses', 'id', is_incremental()) }}

),

result_lines as (

    {{ claude_code_lines_with_tool_blocks('tool_results', 'tool_use_id', is_incremental()) }}

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
