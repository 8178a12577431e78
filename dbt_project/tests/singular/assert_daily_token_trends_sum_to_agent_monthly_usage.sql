-- Daily token trends, summed over each UTC month, equal the per-agent monthly usage summed over
-- agents, for every tenant, month and token type.
with

daily as (

    select
        tenant_id,
        date_trunc('month', usage_date)::date as usage_month,
        sum(call_count) as call_count,
        sum(prompt_tokens) as prompt_tokens,
        sum(completion_tokens) as completion_tokens,
        sum(cached_tokens) as cached_tokens,
        sum(reasoning_tokens) as reasoning_tokens,
        sum(cache_creation_5m_tokens) as cache_creation_5m_tokens,
        sum(cache_creation_1h_tokens) as cache_creation_1h_tokens,
        sum(total_tokens) as total_tokens
    from {{ ref('fct_daily_token_trends') }}
    group by 1, 2
    having sum(call_count) > 0

),

monthly as (

    select
        tenant_id,
        usage_month,
        sum(call_count) as call_count,
        sum(prompt_tokens) as prompt_tokens,
        sum(completion_tokens) as completion_tokens,
        sum(cached_tokens) as cached_tokens,
        sum(reasoning_tokens) as reasoning_tokens,
        sum(cache_creation_5m_tokens) as cache_creation_5m_tokens,
        sum(cache_creation_1h_tokens) as cache_creation_1h_tokens,
        sum(total_tokens) as total_tokens
    from {{ ref('fct_agent_monthly_usage') }}
    group by 1, 2

)

select *
from daily
full outer join monthly using (tenant_id, usage_month)
where daily.call_count is distinct from monthly.call_count
    or daily.prompt_tokens is distinct from monthly.prompt_tokens
    or daily.completion_tokens is distinct from monthly.completion_tokens
    or daily.cached_tokens is distinct from monthly.cached_tokens
    or daily.reasoning_tokens is distinct from monthly.reasoning_tokens
    or daily.cache_creation_5m_tokens is distinct from monthly.cache_creation_5m_tokens
    or daily.cache_creation_1h_tokens is distinct from monthly.cache_creation_1h_tokens
    or daily.total_tokens is distinct from monthly.total_tokens
