{#- Incremental builds of the priced Claude Code tables (int_claude_code_responses_priced,
    int_claude_code_session_responses_priced). A priced row is its staging row and the price in
    force for it, nothing else; so a build prices again the responses of the messages its
    staging table counted again (the same change set, since the priced table's watermark,
    which is never later than its staging table's: macros/claude_code_changes.sql) and the
    responses of the models whose prices changed since its last build (the copy of
    model_prices `remember_prices` keeps), and replaces their rows. Rows that occurred before
    the retention horizon stay as they were, as a full build carries them over. With no copy of
    the prices yet, or a column added, everything is priced again. -#}

{#- The columns of a priced table, in order: `daily` (int_claude_code_responses_priced) or
    `session` (int_claude_code_session_responses_priced). -#}
{% macro claude_code_priced_columns(rules) %}
    {%- if rules == 'daily' -%}
    {{ return([
        'response_key',
        'agent_type',
        'message_id',
        'request_id',
        'session_id',
        'logged_session_id',
        'agent_id',
        'line_uuid',
        'source_system',
        'project',
        'model_name',
        'stop_reason',
        'file_path',
        'client_version',
        'git_branch',
        'input_tokens',
        'output_tokens',
        'cache_creation_tokens',
        'cache_creation_5m_tokens',
        'cache_creation_1h_tokens',
        'cache_read_tokens',
        'total_tokens',
        'copy_count',
        'is_sidechain',
        'occurred_at',
        'loaded_at',
        'working_dir',
        'price_valid_from',
        'cost_usd',
        'is_priced',
        'usage_source',
        'speed',
        'logged_cost_usd',
        'priced_cost_usd',
        'price_source',
    ]) }}
    {%- else -%}
    {{ return([
        'response_key',
        'message_id',
        'request_id',
        'session_id',
        'project',
        'model_name',
        'file_path',
        'input_tokens',
        'output_tokens',
        'cache_creation_tokens',
        'cache_creation_5m_tokens',
        'cache_creation_1h_tokens',
        'cache_read_tokens',
        'total_tokens',
        'copy_count',
        'is_sidechain',
        'occurred_at',
        'loaded_at',
        'price_valid_from',
        'price_source',
        'logged_cost_usd',
        'priced_cost_usd',
        'cost_usd',
        'is_priced',
    ]) }}
    {%- endif -%}
{% endmacro %}

{#- The temp table the pre-hook fills: the model names priced again, or a `whole` row. -#}
{% macro claude_code_repriced_models() -%}
    {{ this.identifier }}__repriced_models
{%- endmacro %}

{#- Pre-hook (after the model's lock): what to price again, and its rows go. Nothing on a full
    build. The indexes come first: a table built whole before had none, and its first
    incremental build looks every new row's key up in it. A table whose columns are not the
    model's `columns` (built before a column was added) is priced again whole: the build adds
    the column (`on_schema_change`), and the rows it keeps, those before the retention
    horizon, have it null, as a full build carries them over. -#}
{% macro claude_code_priced_changes(columns) %}
    {%- if execute and this is not none and is_incremental() -%}
    {%- set seen = prices_seen_relation() -%}
    {%- set built = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
    {%- set reshaped = built | sort != columns | sort -%}
    {%- for column in ['message_id', 'response_key', 'occurred_at'] %}
    {{ index_if_absent([column]) }};
    {%- endfor %}
    {{ claude_code_message_changes(kept_before=retention_horizon()) }};

    create temp table {{ claude_code_repriced_models() }} on commit drop as
    {%- if prices_seen_kept(seen) and not reshaped %}
    select model_name, false as whole from ({{ repriced_model_names(seen) }}) as repriced
    {%- else %}
    select null::text as model_name, true as whole
    {%- endif %};

    delete from {{ this }}
    where occurred_at >= {{ retention_horizon() }}
        and (
            exists (select 1 from {{ claude_code_repriced_models() }} where whole)
            or model_name in (select model_name from {{ claude_code_repriced_models() }})
        )
    {%- else -%}
    select 1
    {%- endif -%}
{% endmacro %}

{#- The rows of `staging` to price: on an incremental build those of the messages counted
    again and of the models priced again (through staging's message_id and response_key
    indexes, one set of keys), every row when a build counts everything; on a full build
    every row. -#}
{% macro claude_code_responses_to_price(staging) -%}
    {%- if not is_incremental() %}
    select * from {{ staging }}
    {%- else %}
    select staging.*
    from (
        select staging.response_key
        from {{ staging }} as staging
        where exists (select 1 from {{ claude_code_changed_messages() }} where whole)
            or exists (select 1 from {{ claude_code_repriced_models() }} where whole)
        union
        select staging.response_key
        from {{ staging }} as staging
        where staging.message_id = any({{ claude_code_changed_message_ids() }})
        union
        select staging.response_key
        from {{ staging }} as staging
        where staging.response_key = any({{ claude_code_changed_line_keys() }})
        union
        select staging.response_key
        from {{ staging }} as staging
        where staging.model_name in (select model_name from {{ claude_code_repriced_models() }})
    ) as to_price
    inner join {{ staging }} as staging
        on to_price.response_key = staging.response_key
    {%- endif %}
{%- endmacro %}
