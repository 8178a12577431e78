with

-- Not materialized: read twice (the newest call, the window's calls), each through the fact's
-- occurred_at index instead of a copy of every call.
calls as not materialized (

    select * from "warehouse"."intermediate"."int_agent_calls_unioned"

),

tool_calls as (

    select * from "warehouse"."intermediate"."int_tool_calls"

),

bounds as (

    select
        max(occurred_at) as window_end,
        max(occurred_at) - interval '30 days' as window_start
    from calls

),

recent_calls as (

    select calls.*
    from calls
    cross join bounds
    where calls.occurred_at > bounds.window_start

),

recent_tool_calls as (

    select tool_calls.*
    from tool_calls
    cross join bounds
    where tool_calls.occurred_at > bounds.window_start

),

tool_stats as (

    select
        tool_name,
        count(*) as call_count,
        count(*) filter (where is_error)::numeric / count(*) as error_rate,
        count(*) filter (where is_denied)::numeric / count(*) as deny_rate
    from recent_tool_calls
    group by tool_name
    having count(*) >= 20

),

-- The two rules about a tool: failing too often, denied too often.
tool_rules as (

    select
        tool_rule.recommendation_type,
        tool_stats.tool_name as subject,
        tool_rule.message,
        round(tool_rule.observed_value, 6) as observed_value,
        tool_rule.threshold,
        jsonb_build_object('calls', tool_stats.call_count) as evidence
    from tool_stats
    cross join
        lateral (
            values
            (
                'tool_optimization', tool_stats.error_rate,
                0.3::numeric,
                format(
                    'Consider optimizing %s - %s%% error rate', tool_stats.tool_name,
                    round(tool_stats.error_rate * 100, 1)
                )
            ),
            (
                'permission_friction', tool_stats.deny_rate,
                0.2::numeric,
                format(
                    '%s is denied on %s%% of its calls - review its approval rules',
                    tool_stats.tool_name, round(tool_stats.deny_rate * 100, 1)
                )
            )
        ) as tool_rule (recommendation_type, observed_value, threshold, message)
    where tool_rule.observed_value > tool_rule.threshold

),

agent_sessions as (

    select
        agent_name,
        source_system,
        session_id,
        count(*) as call_count,
        sum(retry_count) as retry_count
    from recent_calls
    group by agent_name, source_system, session_id

),

retry_reduction as (

    select
        'retry_reduction' as recommendation_type,
        agent_name as subject,
        format(
            'High retry rate detected for %s (%s retries per session) - review error handling',
            agent_name, round(avg(retry_count), 2)
        ) as message,
        round(avg(retry_count), 6) as observed_value,
        2::numeric as threshold,
        jsonb_build_object('sessions', count(*), 'calls', sum(call_count)) as evidence
    from agent_sessions
    group by agent_name
    having sum(call_count) >= 20
        and avg(retry_count) > 2

),

price_missing as (

    select
        'price_missing' as recommendation_type,
        model_name as subject,
        format(
            'No price for model %s: %s LLM calls have no cost - add it to '
            'seeds/model_aliases.csv (priced as a model the catalogue knows) or '
            'seeds/model_price_overrides.csv', model_name, count(*)
        ) as message,
        count(*)::numeric as observed_value,
        0::numeric as threshold,
        jsonb_build_object(
            'tokens', sum(total_tokens), 'sources', jsonb_agg(distinct source_system)
        ) as evidence
    from recent_calls
    where is_llm_call and cost_usd is null and model_name is not null
    group by model_name

),

unioned as (

    select * from tool_rules
    union all
    select * from retry_reduction
    union all
    select * from price_missing

),

final as (

    select
        -- ids
        md5(unioned.recommendation_type || '|' || unioned.subject) as recommendation_id,

        -- strings
        unioned.recommendation_type,
        unioned.subject,
        unioned.message,

        -- numerics
        unioned.observed_value,
        unioned.threshold,

        -- json
        unioned.evidence,

        -- timestamps
        bounds.window_start,
        bounds.window_end

    from unioned
    cross join bounds

)

select * from final