{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=[
            "select pg_advisory_xact_lock(hashtext('{{ this }}'))",
            "{{ claude_code_priced_changes() }}",
        ],
        post_hook=[
            "{{ remember_prices() }}",
            "{{ record_build_watermark(['stg_claude_code__api_responses']) }}",
        ],
        indexes=[
            {'columns': ['occurred_at']}, {'columns': ['response_key']},
            {'columns': ['message_id']},
        ],
    )
}}
{#- Incremental: a build prices again only the responses its staging table counted again and
    those of models whose prices changed (macros/claude_code_priced.sql). -#}
{%- do take_build_horizon() -%}
{#- Each Claude Code API response (ccusage's daily rules) with its cost: the line's own costUSD
    when it has one, else priced from the reference.model_prices row in force when it ran
    (macros/claude_code.sql). -#}
{%- set columns = [
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
] -%}
with

responses as (

    {{ claude_code_responses_to_price(ref('stg_claude_code__api_responses')) }}

),

costed as (

    {{ price_claude_code_responses('responses') }}

),

final as (

    select {{ columns | join(', ') }}
    from costed

)

select * from final
{{ keep_rows_before_retention_horizon('occurred_at', 'response_key', columns) }}
