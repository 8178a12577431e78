{{ config(materialized='table', indexes=[{'columns': ['occurred_at']}]) }}
{#- A table, unlike the other staging models: choosing each response's copy ranks every line of
    history, and a filter on the chosen copy's time cannot reach the raw index through it. As a
    view it was computed again by each of its readers (dbt tests, GX suite, the models built
    from it), over all of history each time. Built once per staging build, read by time
    through its index. -#}
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

{{ claude_code_responses('session') }},

final as (

    select
        {{ claude_code_response_columns() }}
    from chosen

)

select * from final
