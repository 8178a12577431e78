{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='sync_all_columns',
        pre_hook=[
            "select pg_advisory_xact_lock(hashtext('{{ this }}'))",
            "{{ claude_code_priced_changes(claude_code_priced_columns('session')) }}",
        ],
        post_hook=[
            "{{ remember_prices() }}",
            "{{ record_build_watermark(['stg_claude_code__session_responses']) }}",
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
{#- Each Claude Code API response by ccusage's session, monthly and blocks rules
    (stg_claude_code__session_responses) with its cost, priced as int_claude_code_responses_priced
    prices the daily ones. -#}
{%- set columns = claude_code_priced_columns('session') -%}
with

responses as (

    {{ claude_code_responses_to_price(ref('stg_claude_code__session_responses')) }}

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
