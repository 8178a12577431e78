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
            "{{ index_if_absent(['response_key']) }}",
            "{{ record_build_watermark() }}",
        ],
        indexes=[
            {'columns': ['occurred_at']}, {'columns': ['response_key']},
            {'columns': ['message_id']},
        ],
    )
}}
{#- A table, as stg_claude_code__api_responses and for its reasons; incremental by message id
    as it is (macros/claude_code_changes.sql). -#}
{%- do take_build_horizon() -%}
{#- Claude Code API responses counted by the rules of ccusage 20.0.24's session, monthly and
    blocks reports, which differ from its daily report (stg_claude_code__api_responses):
    - `progress` lines are not read;
    - without a request id, the copies of message.id in one session are one response, at any
      time;
    - a `/btw` sidechain copy under another request id is the same response only at the same
      millisecond.
    The marts that match those reports (fct_claude_code_sessions, fct_claude_code_monthly_usage,
    fct_usage_blocks) read this model. -#}
with

{{ claude_code_responses('session', incremental=is_incremental()) }},

final as (

    select
        {{ claude_code_response_columns() }}
    from chosen

)

select * from final
