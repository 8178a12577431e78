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

usage_lines as (

    {{ claude_code_usage_lines(with_relayed=false) }}

),

keyed as (

    select
        *,
        case
            when message_id is null then 'line:' || file_path || ':' || line_number
            when request_id is not null then message_id || ':' || request_id
            else message_id || ':' || dedupe_session_id
        end as response_key,
        coalesce(input_tokens, 0) + coalesce(output_tokens, 0) + cache_creation_tokens
            + coalesce(cache_read_input_tokens, 0) as total_tokens
    from usage_lines

),

ranked as (

    select
        *,
        count(*) over (partition by response_key) as copy_count,
        row_number() over (
            partition by response_key order by {{ claude_code_copy_order() }}
        ) as copy_rank
    from keyed

),

side_questions as (

    select
        *,
        case when message_id is not null and request_id is not null then row_number() over (
            partition by message_id, dedupe_session_id, {{ claude_code_ms('used_at') }},
                request_id is not null
            order by {{ claude_code_copy_order() }}
        ) end as side_rank
    from ranked
    where copy_rank = 1

),

final as (

    select
        -- ids
        response_key,
        message_id,
        request_id,
        file_session_id as session_id,

        -- strings
        project,
        priced_model as model_name,
        file_path,

        -- numerics
        coalesce(input_tokens, 0) as input_tokens,
        coalesce(output_tokens, 0) as output_tokens,
        cache_creation_tokens,
        case
            when has_cache_creation_breakdown then coalesce(cache_creation_5m_tokens, 0)
            else cache_creation_tokens
        end as cache_creation_5m_tokens,
        coalesce(cache_creation_1h_tokens, 0) as cache_creation_1h_tokens,
        coalesce(cache_read_input_tokens, 0) as cache_read_tokens,
        total_tokens,
        cost_usd as logged_cost_usd,
        copy_count,

        -- booleans
        coalesce(is_sidechain, false) as is_sidechain,

        -- timestamps
        used_at as occurred_at,
        _loaded_at as loaded_at

    from side_questions
    where side_rank is null or side_rank = 1 or not coalesce(is_sidechain, false)

)

select * from final
