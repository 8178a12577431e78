
  
    

  create  table "warehouse"."marts"."fct_daily_token_trends__dbt_tmp"
  
  
    as
  
  (
    with

calls_daily as (

    select * from "warehouse"."intermediate"."int_calls_daily"

),

day_bounds as (

    select
        min(call_date) as first_day,
        max(call_date) as last_day
    from calls_daily

),

days as (

    select generate_series(first_day, last_day, interval '1 day')::date as usage_date
    from day_bounds
    where first_day is not null

),

tenant_sources as (

    select distinct
        tenant_id,
        source_system
    from calls_daily

),

daily as (

    select
        call_date as usage_date,
        tenant_id,
        source_system,
        sum(call_count)::bigint as call_count,
        sum(llm_call_count)::bigint as llm_call_count,
        
        sum(prompt_tokens)::bigint as prompt_tokens,
        sum(completion_tokens)::bigint as completion_tokens,
        sum(cached_tokens)::bigint as cached_tokens,
        sum(reasoning_tokens)::bigint as reasoning_tokens,
        sum(cache_creation_5m_tokens)::bigint as cache_creation_5m_tokens,
        sum(cache_creation_1h_tokens)::bigint as cache_creation_1h_tokens,
        sum(total_tokens)::bigint as total_tokens,
        sum(cost_usd) as cost_usd,
        sum(unpriced_llm_call_count)::bigint as unpriced_llm_call_count
    from calls_daily
    group by call_date, tenant_id, source_system

),

final as (

    select
        days.usage_date,
        tenant_sources.tenant_id,
        tenant_sources.source_system,
        coalesce(daily.call_count, 0) as call_count,
        coalesce(daily.llm_call_count, 0) as llm_call_count,
        coalesce(daily.prompt_tokens, 0) as prompt_tokens,
        coalesce(daily.completion_tokens, 0) as completion_tokens,
        coalesce(daily.cached_tokens, 0) as cached_tokens,
        coalesce(daily.reasoning_tokens, 0) as reasoning_tokens,
        coalesce(daily.cache_creation_5m_tokens, 0) as cache_creation_5m_tokens,
        coalesce(daily.cache_creation_1h_tokens, 0) as cache_creation_1h_tokens,
        coalesce(daily.total_tokens, 0) as total_tokens,
        -- A day without calls cost nothing; a day whose calls are all unpriced has no known
        -- cost (null), never 0.
        case when daily.usage_date is null then 0 else daily.cost_usd end as cost_usd,
        coalesce(daily.unpriced_llm_call_count, 0) as unpriced_llm_call_count
    from days
    cross join tenant_sources
    left join daily
        on days.usage_date = daily.usage_date
            and tenant_sources.tenant_id = daily.tenant_id
            and tenant_sources.source_system = daily.source_system

)

select * from final
  );
  