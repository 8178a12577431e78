{#- Each Claude Code API response by ccusage's session, monthly and blocks rules
    (stg_claude_code__session_responses) with its cost, priced as int_claude_code_responses_priced
    prices the daily ones. -#}
{%- set columns = [
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
] -%}
with

responses as (

    select * from {{ ref('stg_claude_code__session_responses') }}

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
