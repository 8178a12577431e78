{{ config(indexes=[{'columns': ['sequence_number'], 'unique': True}]) }}
{#- Claude Code responses in time order, numbered, for the billing-block walk. -#}
with

responses as (

    select * from {{ ref('int_claude_code_session_responses_priced') }}

),

final as (

    select
        row_number() over (order by occurred_at, response_key) as sequence_number,
        response_key,
        model_name,
        occurred_at,
        input_tokens,
        output_tokens,
        cache_creation_tokens,
        cache_read_tokens,
        total_tokens,
        cost_usd
    from responses

)

select * from final
