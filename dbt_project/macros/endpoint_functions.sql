{#- The seed-002 analytics endpoints as SQL functions beside the marts they read, created by
    post-hooks once those marts exist. A null tenant means every tenant. The bodies name the
    marts without their database (PostgreSQL keeps a body as text): a copy of the database, or
    a renamed one, keeps working functions. -#}

{% macro create_token_trend_function() %}
create or replace function {{ this.schema }}.token_trend(
    p_tenant text default null, p_days integer default 30
)
returns table (usage_date date, call_count bigint, total_tokens bigint)
language plpgsql stable as $fn$
begin
    if p_days is null or p_days < 1 or p_days > 90 then
        raise exception 'days must be between 1 and 90, got %', p_days
            using errcode = '22023', hint = 'token_trend(tenant, days): days defaults to 30';
    end if;
    return query
    with days as (
        select generate_series(
            (now() at time zone 'UTC')::date - (p_days - 1),
            (now() at time zone 'UTC')::date,
            interval '1 day'
        )::date as day
    ),
    daily as (
        select t.usage_date as day, sum(t.call_count)::bigint as calls,
            sum(t.total_tokens)::bigint as tokens
        from {{ this.include(database=False) }} as t
        where p_tenant is null or t.tenant_id = p_tenant
        group by t.usage_date
    )
    select days.day, coalesce(daily.calls, 0)::bigint, coalesce(daily.tokens, 0)::bigint
    from days
    left join daily on daily.day = days.day
    order by days.day;
end;
$fn$
{% endmacro %}

{% macro create_activity_heatmap_function() %}
create or replace function {{ this.schema }}.activity_heatmap(p_tenant text default null)
returns table (day_of_week integer, hour_of_day integer, call_count bigint)
language plpgsql stable as $fn$
begin
    return query
    select h.day_of_week, h.hour_of_day, sum(h.call_count)::bigint
    from {{ this.include(database=False) }} as h
    where p_tenant is null or h.tenant_id = p_tenant
    group by h.day_of_week, h.hour_of_day
    having sum(h.call_count) > 0
    order by h.day_of_week, h.hour_of_day;
end;
$fn$
{% endmacro %}

{% macro create_agent_usage_function() %}
create or replace function {{ this.schema }}.agent_usage(
    p_tenant text default null,
    p_month date default date_trunc('month', now() at time zone 'UTC')::date
)
returns table (usage_month date, agent_name text, call_count bigint, total_tokens bigint)
language plpgsql stable as $fn$
begin
    return query
    select m.usage_month, m.agent_name, sum(m.call_count)::bigint, sum(m.total_tokens)::bigint
    from {{ this.include(database=False) }} as m
    where (p_tenant is null or m.tenant_id = p_tenant)
        and m.usage_month = date_trunc('month', p_month)::date
    group by m.usage_month, m.agent_name
    order by sum(m.total_tokens) desc, m.agent_name;
end;
$fn$
{% endmacro %}
