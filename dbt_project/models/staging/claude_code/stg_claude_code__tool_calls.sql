{{
    config(
        materialized='table',
        post_hook=["{{ record_build_watermark() }}"],
        indexes=[{'columns': ['occurred_at']}, {'columns': ['response_key']}],
    )
}}
{#- A table, unlike the other staging models: counting each tool use once ranks every line of
    history, and a filter on the chosen copy's time cannot reach the raw index through it. As a
    view it was computed again by each of its readers (dbt tests, GX suite, the models built
    from it), over all of history each time. Built once per staging build, read by time
    through its index. -#}
{%- do take_build_horizon() -%}
{#- One row per tool call of a Claude Code log: each tool_use block counted once (resumed and
    forked logs repeat it; the non-sidechain, earliest copy wins), with its tool_result. -#}
with

source as (

    select * from {{ source('claude_code', 'claude_code_lines') }}

),

tool_uses as (

    select distinct on (tool_use.block ->> 'id')
        tool_use.block ->> 'id' as tool_use_id,
        tool_use.block ->> 'name' as tool_name,
        source.message_id || ':' || coalesce(source.request_id, '') as response_key,
        source.session_id,
        source.project,
        source.occurred_at,
        source._loaded_at
    from source
    cross join lateral jsonb_array_elements(source.tool_uses) as tool_use (block)
    where jsonb_typeof(source.tool_uses) = 'array'
        and tool_use.block ->> 'id' is not null
        and source.message_id is not null
    order by
        tool_use.block ->> 'id', coalesce(source.is_sidechain, false), source.occurred_at,
        source.file_path, source.line_number

),

tool_results as (

    select distinct on (tool_result.block ->> 'tool_use_id')
        tool_result.block ->> 'tool_use_id' as tool_use_id,
        coalesce((tool_result.block ->> 'is_error')::boolean, false) as is_error,
        source.occurred_at as result_at
    from source
    cross join lateral jsonb_array_elements(source.tool_results) as tool_result (block)
    where jsonb_typeof(source.tool_results) = 'array'
    order by
        tool_result.block ->> 'tool_use_id', source.occurred_at, source.file_path,
        source.line_number

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
