-- Daily token trends, summed over each UTC month, equal the per-agent monthly usage summed over
-- agents, for every tenant, source, month and token type.
-- It reads several models; dagster-dbt shows it as a check of the last one built.
{{ config(meta={'dagster': {'ref': {'name': 'fct_agent_monthly_usage'}}}) }}
with

daily as (

    select
        tenant_id,
        source_system,
        date_trunc('month', usage_date)::date as usage_month,
        {{ sum_token_types() }}
        sum(call_count) as call_count
    from {{ ref('fct_daily_token_trends') }}
    group by 1, 2, 3
    having sum(call_count) > 0

),

monthly as (

    select
        tenant_id,
        source_system,
        usage_month,
        {{ sum_token_types() }}
        sum(call_count) as call_count
    from {{ ref('fct_agent_monthly_usage') }}
    group by 1, 2, 3

)

-- The join's `using` columns once, then each side's sums.
select * -- noqa: RF02
from daily
full outer join monthly using (tenant_id, source_system, usage_month)
where daily.call_count is distinct from monthly.call_count
    {%- for column in token_types() %}
        or daily.{{ column }} is distinct from monthly.{{ column }}
    {%- endfor %}
