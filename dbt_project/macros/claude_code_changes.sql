{#- Incremental builds of the Claude Code staging tables. Choosing a response's copy or a tool
    use's first copy ranks every line that shares its message id or tool use id, in any log
    and on any day; so a build counts again the message ids and tool use ids of the lines
    written since its watermark (`_loaded_at`, macros/incremental_days.sql) and of the lines
    removed since (raw.claude_code_removed_lines: a rewritten log, a purge), reading all their
    copies through indexes, and replaces their rows. Exact, as a full build: every row a
    changed line can reach shares one of those ids, and a subagent line goes by the latest Task
    before it in its log, so the lines after a changed Task line count again too. A `whole`
    row in the log (removals before the log existed went unseen) makes the build count
    everything again.

    Each model's pre-hook (`claude_code_*_changes`) puts what to count again in a temp table,
    dropped at commit, and deletes the rows it replaces; the model reads the lines through
    that table. The decision is the pre-hook's alone (taken in the build's transaction), so a
    line written between compilation and the build cannot be missed by one and read by the
    other. -#}

{#- The temp tables the pre-hooks fill and the models read. -#}
{% macro claude_code_changed_messages() %}_atw_changed_claude_code_messages{% endmacro %}
{% macro claude_code_changed_tool_uses() %}_atw_changed_claude_code_tool_uses{% endmacro %}

{#- Arrays over the pre-hook's table: the changed message ids, and the response keys of the
    changed lines without one (each a response of its own, keyed as claude_code_responses keys
    it). -#}
{% macro claude_code_changed_message_ids() -%}
    array(
        select message_id from {{ claude_code_changed_messages() }}
        where message_id is not null
    )
{%- endmacro %}

{% macro claude_code_changed_line_keys() -%}
    array(
        select 'line:' || file_path || ':' || line_number
        from {{ claude_code_changed_messages() }}
        where message_id is null and file_path is not null
    )
{%- endmacro %}

{#- The lines written or removed since the model's watermark (file_path, line_number,
    message_id, tool_ids, has_task), and whether a `whole` marker came since. -#}
{% macro _claude_code_changes_since() -%}
    since as materialized (
        select {{ build_watermark() }} as since
    ),

    whole as materialized (
        select exists (
            select 1 from {{ source('raw_ops', 'claude_code_removed_lines') }}
            where whole and removed_at >= (select since from since)
        ) as whole
    ),

    changed as (
        select
            file_path, line_number, message_id,
            raw.claude_code_tool_ids(tool_uses, tool_results) as tool_ids,
            raw.claude_code_has_task(tool_uses) as has_task
        from {{ source('claude_code', 'claude_code_lines') }}
        where _loaded_at >= (select since from since)
        union all
        select file_path, line_number, message_id, tool_ids, has_task
        from {{ source('raw_ops', 'claude_code_removed_lines') }}
        where removed_at >= (select since from since) and not whole
    )
{%- endmacro %}

{#- Pre-hook of the two response tables: the message ids to count again (and, for lines
    without one, their file and line: each is a response of its own), then their rows go.
    Nothing on a full build. `kept_before` (a timestamptz expression): rows that occurred before
    it stay (the priced tables keep what retention purged from raw). -#}
{% macro claude_code_message_changes(kept_before=none) %}
    {%- set kept -%}
        {%- if kept_before is not none %} and occurred_at >= {{ kept_before }}{% endif -%}
    {%- endset -%}
    {%- if execute and this is not none and is_incremental() -%}
    create temp table {{ claude_code_changed_messages() }} on commit drop as
    with

    {{ _claude_code_changes_since() }},

    -- A subagent line takes the type of the latest Task call before it in its log.
    after_tasks as (
        select later.file_path, later.line_number, later.message_id
        from (
            select file_path, min(line_number) as line_number from changed
            where has_task
            group by file_path
        ) as task
        inner join {{ source('claude_code', 'claude_code_lines') }} as later
            on later.file_path = task.file_path
            and later.line_number > task.line_number
    ),

    reached as (
        select file_path, line_number, message_id from changed
        union all
        select file_path, line_number, message_id from after_tasks
    ),

    final as (
        select distinct message_id, null::text as file_path, null::integer as line_number
        from reached
        where message_id is not null and not (select whole from whole)
        union all
        select distinct null, file_path, line_number
        from reached
        where message_id is null and not (select whole from whole)
    )

    select *, (select whole from whole) as whole from final
    union all
    {#- The marker alone: the models read every line. #}
    select null, null, null, true from whole where whole;

    analyze {{ claude_code_changed_messages() }};

    delete from {{ this }}
    where exists (select 1 from {{ claude_code_changed_messages() }} where whole){{ kept }};

    delete from {{ this }}
    where message_id = any({{ claude_code_changed_message_ids() }}){{ kept }};

    delete from {{ this }}
    where response_key = any({{ claude_code_changed_line_keys() }}){{ kept }}
    {%- else -%}
    select 1
    {%- endif -%}
{% endmacro %}

{#- The lines of the responses to count again: every copy of each changed message id (through
    the message_id index), each changed line without one; every line when the build counts
    all. -#}
{% macro claude_code_lines_to_count() -%}
    select lines.*
    from {{ source('claude_code', 'claude_code_lines') }} as lines
    where exists (select 1 from {{ claude_code_changed_messages() }} where whole)
    union all
    select lines.*
    from {{ source('claude_code', 'claude_code_lines') }} as lines
    where lines.message_id = any({{ claude_code_changed_message_ids() }})
    union all
    select lines.*
    from {{ claude_code_changed_messages() }} as changed
    inner join {{ source('claude_code', 'claude_code_lines') }} as lines
        on lines.file_path = changed.file_path
        and lines.line_number = changed.line_number
    where changed.message_id is null and lines.message_id is null
{%- endmacro %}

{#- Pre-hook of the tool calls table: the tool use ids to count again (those of the tool_use
    and tool_result blocks of the lines written or removed since), then their rows go.
    Nothing on a full build. -#}
{% macro claude_code_tool_use_changes() %}
    {%- if execute and this is not none and is_incremental() -%}
    create temp table {{ claude_code_changed_tool_uses() }} on commit drop as
    with

    {{ _claude_code_changes_since() }}

    select distinct unnest(tool_ids) as tool_use_id, false as whole
    from changed
    where not (select whole from whole)
    union all
    select null, true from whole where whole;

    analyze {{ claude_code_changed_tool_uses() }};

    delete from {{ this }}
    where exists (select 1 from {{ claude_code_changed_tool_uses() }} where whole);

    delete from {{ this }}
    where tool_use_id = any(array(
        select tool_use_id from {{ claude_code_changed_tool_uses() }}
        where tool_use_id is not null
    ))
    {%- else -%}
    select 1
    {%- endif -%}
{% endmacro %}

{#- On an `incremental` build, the lines holding a block of `blocks_column` (tool_uses or
    tool_results) whose `id_key` (id or tool_use_id) is a changed tool use id, each with that
    id (through the column's GIN index, one lookup per id), or every line when the build counts
    all; on a full build every line. -#}
{% macro claude_code_lines_with_tool_blocks(blocks_column, id_key, incremental) -%}
    {%- if not incremental %}
    select *, null::text as changed_tool_use_id
    from {{ source('claude_code', 'claude_code_lines') }}
    {%- else %}
    select lines.*, null::text as changed_tool_use_id
    from {{ source('claude_code', 'claude_code_lines') }} as lines
    where exists (select 1 from {{ claude_code_changed_tool_uses() }} where whole)
    union all
    select lines.*, changed.tool_use_id
    from {{ claude_code_changed_tool_uses() }} as changed
    cross join lateral (
        select * from {{ source('claude_code', 'claude_code_lines') }} as candidate
        where candidate.{{ blocks_column }} @> jsonb_build_array(
                jsonb_build_object('{{ id_key }}', changed.tool_use_id))
            and jsonb_typeof(candidate.{{ blocks_column }}) = 'array'
        offset 0
    ) as lines
    where changed.tool_use_id is not null
    {%- endif %}
{%- endmacro %}
