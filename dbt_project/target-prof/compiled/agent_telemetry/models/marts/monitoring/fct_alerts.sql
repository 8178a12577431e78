with

agent_stats as (

    select * from "warehouse"."intermediate"."int_agent_days"

),

daily_trends as (

    select * from "warehouse"."marts"."fct_daily_token_trends"

),

sessions as (

    select * from "warehouse"."intermediate"."int_sessions_scored"

),

agent_days as (

    select
        tenant_id,
        agent_name,
        call_date,
        call_count,
        error_count,
        error_count::numeric / call_count as error_rate,
        timed_call_count,
        p95_latency_ms
    from agent_stats

),

high_error_rate as (

    select
        'high_error_rate' as alert_type,
        'warning' as severity,
        tenant_id,
        agent_name,
        null::text as session_key,
        call_date::timestamptz as window_start,
        call_date::timestamptz + interval '1 day' as window_end,
        round(error_rate, 6) as observed_value,
        0.15::numeric as threshold,
        format(
            'Error rate of %s on %s at %s%% (threshold: %s%%)', agent_name, call_date,
            round(error_rate * 100, 1), 0.15 * 100)
            as message,
        jsonb_build_object('calls', call_count, 'errors', error_count) as context
    from agent_days
    where call_count >= 20
        and error_rate > 0.15

),

slow_responses as (

    select
        'slow_responses' as alert_type,
        'warning' as severity,
        tenant_id,
        agent_name,
        null::text as session_key,
        call_date::timestamptz as window_start,
        call_date::timestamptz + interval '1 day' as window_end,
        round(p95_latency_ms::numeric, 3) as observed_value,
        5000::numeric as threshold,
        format(
            'p95 response time of %s on %s at %s ms (threshold: %s ms)', agent_name,
            call_date, round(p95_latency_ms::numeric), 5000)
            as message,
        jsonb_build_object('timed_calls', timed_call_count) as context
    from agent_days
    where timed_call_count >= 20
        and p95_latency_ms > 5000

),

-- A tenant's day over every source (the trends keep one row per source).
tenant_totals as (

    select
        tenant_id,
        usage_date,
        sum(total_tokens) as total_tokens
    from daily_trends
    group by tenant_id, usage_date

),

tenant_days as (

    select
        tenant_id,
        usage_date,
        total_tokens,
        avg(nullif(total_tokens, 0)) over trailing_window as trailing_avg_tokens,
        count(nullif(total_tokens, 0)) over trailing_window as trailing_days_with_usage
    from tenant_totals
    window trailing_window as (
        partition by tenant_id order by usage_date
        rows between 7 preceding and 1 preceding
    )

),

token_spike as (

    select
        'token_spike' as alert_type,
        'info' as severity,
        tenant_id,
        null::text as agent_name,
        null::text as session_key,
        usage_date::timestamptz as window_start,
        usage_date::timestamptz + interval '1 day' as window_end,
        total_tokens::numeric as observed_value,
        round(2 * trailing_avg_tokens, 3) as threshold,
        format(
            'Token usage of %s on %s %sx above its %s-day average', tenant_id, usage_date,
            round(total_tokens / trailing_avg_tokens, 1), 7)
            as message,
        jsonb_build_object(
            'trailing_avg_tokens', round(trailing_avg_tokens, 3),
            'trailing_days_with_usage', trailing_days_with_usage
        ) as context
    from tenant_days
    where trailing_days_with_usage >= 3
        and total_tokens > 2 * trailing_avg_tokens

),

long_session as (

    select
        'long_session' as alert_type,
        'info' as severity,
        tenant_id,
        null::text as agent_name,
        session_key,
        started_at as window_start,
        ended_at as window_end,
        duration_seconds as observed_value,
        7200::numeric as threshold,
        format(
            'Session %s ran %s h (threshold: %s h)', session_key,
            round(duration_seconds / 3600, 1),
            round(7200 / 3600.0, 1)
        ) as message,
        jsonb_build_object('calls', call_count, 'source_system', source_system) as context
    from sessions
    where duration_seconds > 7200

),

unioned as (

    select * from high_error_rate
    union all
    select * from slow_responses
    union all
    select * from token_spike
    union all
    select * from long_session

),

final as (

    select
        -- ids
        md5(concat_ws(
            '|', alert_type, tenant_id, agent_name, session_key,
            extract(epoch from window_start)::text
        )) as alert_id,
        tenant_id,
        agent_name,
        session_key,

        -- strings
        alert_type,
        severity,
        message,

        -- numerics
        observed_value,
        threshold,

        -- json
        context,

        -- timestamps
        window_start,
        window_end,
        -- the condition held once its window closed
        window_end as triggered_at

    from unioned

)

select * from final