with

collector_events as (

    select * from "warehouse"."staging"."stg_collector__telemetry_events"
    where ((occurred_at >= '2026-12-02 00:00+00'::timestamptz + interval '0'
             and occurred_at < '2026-12-02 00:00+00'::timestamptz + interval '1 day') or (occurred_at >= '2026-12-03 00:00+00'::timestamptz + interval '0'
             and occurred_at < '2026-12-03 00:00+00'::timestamptz + interval '1 day'))

),

landed_batch_events as (

    select * from "warehouse"."staging"."stg_landing__collector_events"
    where ((occurred_at >= '2026-12-02 00:00+00'::timestamptz + interval '0'
             and occurred_at < '2026-12-02 00:00+00'::timestamptz + interval '1 day') or (occurred_at >= '2026-12-03 00:00+00'::timestamptz + interval '0'
             and occurred_at < '2026-12-03 00:00+00'::timestamptz + interval '1 day'))

),

landed_metric_events as (

    select * from "warehouse"."staging"."stg_landing__metric_events"
    where ((occurred_at >= '2026-12-02 00:00+00'::timestamptz + interval '0'
             and occurred_at < '2026-12-02 00:00+00'::timestamptz + interval '1 day') or (occurred_at >= '2026-12-03 00:00+00'::timestamptz + interval '0'
             and occurred_at < '2026-12-03 00:00+00'::timestamptz + interval '1 day'))

),

claude_code_responses as (

    select * from "warehouse"."intermediate"."int_claude_code_responses_priced"
    where ((occurred_at >= '2026-12-02 00:00+00'::timestamptz + interval '0'
             and occurred_at < '2026-12-02 00:00+00'::timestamptz + interval '1 day') or (occurred_at >= '2026-12-03 00:00+00'::timestamptz + interval '0'
             and occurred_at < '2026-12-03 00:00+00'::timestamptz + interval '1 day'))

),

agent_cli_usage as (

    select * from "warehouse"."intermediate"."int_agent_cli_usage_priced"
    where counts_in_daily and ((occurred_at >= '2026-12-02 00:00+00'::timestamptz + interval '0'
             and occurred_at < '2026-12-02 00:00+00'::timestamptz + interval '1 day') or (occurred_at >= '2026-12-03 00:00+00'::timestamptz + interval '0'
             and occurred_at < '2026-12-03 00:00+00'::timestamptz + interval '1 day'))

),

agent_cli_errors as (

    select * from "warehouse"."staging"."stg_agent_cli__tool_events"
    where tool_name is null and is_error and ((occurred_at >= '2026-12-02 00:00+00'::timestamptz + interval '0'
             and occurred_at < '2026-12-02 00:00+00'::timestamptz + interval '1 day') or (occurred_at >= '2026-12-03 00:00+00'::timestamptz + interval '0'
             and occurred_at < '2026-12-03 00:00+00'::timestamptz + interval '1 day'))

),

model_prices as (

    select * from "warehouse"."reference"."model_prices"

),

-- Collector events and collector batch files share the collector's columns.
collector_shaped as (
    
        select
            source_system,
            event_id::text as source_event_id,
            tenant_id,
            host_id,
            working_dir,
            session_id as source_session_id,
            agent_name,
            hook_name,
            tool_name,
            model_name,
            event_type,
            decision,
            latency_ms,
            prompt_tokens,
            completion_tokens,
            cached_tokens,
            reasoning_tokens,
            null::bigint as cache_creation_tokens,
            null::bigint as cache_creation_5m_tokens,
            null::bigint as cache_creation_1h_tokens,
            total_tokens,
            case
        when jsonb_typeof(extra_data -> 'inputChars') = 'number'
            and (extra_data ->> 'inputChars')::numeric between 0 and 2147483647
            then round((extra_data ->> 'inputChars')::numeric)::integer
    end::numeric as input_chars,
            cost_usd,
            null::numeric as priced_cost_usd,
            coalesce(error_count, 0) as retry_count,
            is_success,
            is_llm_call,
            tool_name is not null as is_tool_call,
            decision_reason as reason_text,
            null::text as error_class,
            occurred_at,
            loaded_at
        from collector_events
        union all
    
        select
            source_system,
            event_id::text as source_event_id,
            tenant_id,
            host_id,
            working_dir,
            session_id as source_session_id,
            agent_name,
            hook_name,
            tool_name,
            model_name,
            event_type,
            decision,
            latency_ms,
            prompt_tokens,
            completion_tokens,
            cached_tokens,
            reasoning_tokens,
            null::bigint as cache_creation_tokens,
            null::bigint as cache_creation_5m_tokens,
            null::bigint as cache_creation_1h_tokens,
            total_tokens,
            case
        when jsonb_typeof(extra_data -> 'inputChars') = 'number'
            and (extra_data ->> 'inputChars')::numeric between 0 and 2147483647
            then round((extra_data ->> 'inputChars')::numeric)::integer
    end::numeric as input_chars,
            cost_usd,
            null::numeric as priced_cost_usd,
            coalesce(error_count, 0) as retry_count,
            is_success,
            is_llm_call,
            tool_name is not null as is_tool_call,
            decision_reason as reason_text,
            null::text as error_class,
            occurred_at,
            loaded_at
        from landed_batch_events
        
    
),

metric_shaped as (

    select
        source_system,
        event_id as source_event_id,
        tenant_id,
        null::text as host_id,
        null::text as working_dir,
        session_id as source_session_id,
        agent_name,
        null::text as hook_name,
        null::text as tool_name,
        model_name,
        metric as event_type,
        case when is_success then 'SUCCESS' else 'ERROR' end as decision,
        latency_ms,
        prompt_tokens,
        completion_tokens,
        null::integer as cached_tokens,
        null::integer as reasoning_tokens,
        null::bigint as cache_creation_tokens,
        null::bigint as cache_creation_5m_tokens,
        null::bigint as cache_creation_1h_tokens,
        total_tokens,
        null::numeric as input_chars,
        null::numeric as cost_usd,
        null::numeric as priced_cost_usd,
        retries as retry_count,
        is_success,
        is_llm_call,
        tool_call_count > 0 as is_tool_call,
        error_code as reason_text,
        error_class,
        occurred_at,
        loaded_at
    from landed_metric_events

),

claude_code_shaped as (

    select
        source_system,
        response_key as source_event_id,
        project as tenant_id,
        null::text as host_id,
        working_dir,
        session_id as source_session_id,
        case when agent_type = 'main' then 'claude-code'
            else 'claude-code:' || agent_type
        end as agent_name,
        null::text as hook_name,
        null::text as tool_name,
        model_name,
        'api_response' as event_type,
        'SUCCESS' as decision,
        null::integer as latency_ms,
        input_tokens as prompt_tokens,
        output_tokens as completion_tokens,
        cache_read_tokens as cached_tokens,
        null::integer as reasoning_tokens,
        cache_creation_tokens,
        cache_creation_5m_tokens,
        cache_creation_1h_tokens,
        total_tokens,
        null::numeric as input_chars,
        logged_cost_usd as cost_usd,
        priced_cost_usd,
        0 as retry_count,
        true as is_success,
        true as is_llm_call,
        false as is_tool_call,
        null::text as reason_text,
        null::text as error_class,
        occurred_at,
        loaded_at
    from claude_code_responses

),

agent_cli_shaped as (

    select
        agent_cli as source_system,
        usage_key as source_event_id,
        coalesce(project, agent_cli) as tenant_id,
        null::text as host_id,
        project as working_dir,
        session_id as source_session_id,
        replace(agent_cli, '_', '-') as agent_name,
        null::text as hook_name,
        null::text as tool_name,
        model_name,
        'api_response' as event_type,
        'SUCCESS' as decision,
        null::integer as latency_ms,
        input_tokens as prompt_tokens,
        output_tokens + extra_output_tokens as completion_tokens,
        cache_read_tokens as cached_tokens,
        reasoning_tokens,
        cache_creation_tokens,
        null::bigint as cache_creation_5m_tokens,
        null::bigint as cache_creation_1h_tokens,
        total_tokens,
        null::numeric as input_chars,
        logged_cost_usd as cost_usd,
        priced_cost_usd,
        0 as retry_count,
        true as is_success,
        true as is_llm_call,
        false as is_tool_call,
        null::text as reason_text,
        null::text as error_class,
        occurred_at,
        loaded_at
    from agent_cli_usage

),

-- API errors the agent CLIs' OTel exports report (Claude Code's `api_error`, an errored span
-- without a tool): failed LLM calls without tokens, billed nothing.
agent_cli_error_shaped as (

    select
        agent_cli as source_system,
        tool_event_key as source_event_id,
        agent_cli as tenant_id,
        null::text as host_id,
        null::text as working_dir,
        session_id as source_session_id,
        replace(agent_cli, '_', '-') as agent_name,
        null::text as hook_name,
        null::text as tool_name,
        null::text as model_name,
        'api_error' as event_type,
        'ERROR' as decision,
        least(duration_ms, 2147483647)::integer as latency_ms,
        null::bigint as prompt_tokens,
        null::bigint as completion_tokens,
        null::bigint as cached_tokens,
        null::bigint as reasoning_tokens,
        null::bigint as cache_creation_tokens,
        null::bigint as cache_creation_5m_tokens,
        null::bigint as cache_creation_1h_tokens,
        null::bigint as total_tokens,
        null::numeric as input_chars,
        0::numeric as cost_usd,
        null::numeric as priced_cost_usd,
        0 as retry_count,
        false as is_success,
        true as is_llm_call,
        false as is_tool_call,
        error_type as reason_text,
        error_type as error_class,
        occurred_at,
        loaded_at
    from agent_cli_errors

),

unioned as (

    select * from collector_shaped
    union all
    select * from metric_shaped
    union all
    select * from claude_code_shaped
    union all
    select * from agent_cli_shaped
    union all
    select * from agent_cli_error_shaped

),

-- An LLM call that reports no token counts at all gets its input estimated from the characters
-- it sent; the output stays unknown (0).
tokens as (

    select
        *,
        source_system || ':' || source_event_id as call_id,
        (occurred_at at time zone 'UTC')::date as call_date,
        (
            is_llm_call and input_chars is not null and prompt_tokens is null
            and completion_tokens is null and total_tokens is null
        ) as is_token_estimated,
        round(input_chars / 4.0)::integer
            as estimated_prompt_tokens
    from unioned

),

-- A call the source sent without a cost is priced from the model_prices row in force that day.
priced as (

    select
        tokens.*,
        case when tokens.cost_usd is null and tokens.priced_cost_usd is null
                and tokens.is_llm_call then (
                select
                    round((
                        (greatest(
                            coalesce(tokens.prompt_tokens, tokens.estimated_prompt_tokens, 0)
                            - coalesce(tokens.cached_tokens, 0), 0
                        )) * prices.input_per_mtok
                        + least(
                            coalesce(tokens.cached_tokens, 0),
                            coalesce(tokens.prompt_tokens, tokens.estimated_prompt_tokens, 0)
                        )
                        * prices.cache_read_per_mtok
                        + coalesce(tokens.completion_tokens, 0) * prices.output_per_mtok
                    )::numeric / 1e6, 8)
                from model_prices as prices
                where prices.model_name = tokens.model_name
                    and prices.valid_from <= tokens.call_date
                order by prices.valid_from desc
                limit 1
            )
        end as seed_priced_cost_usd
    from tokens

),

-- Sessions. A session id the source sent with more than one call is a session, whatever hosts
-- and days its calls span. An id seen once belongs to a client that starts a new id in every
-- process: such calls are grouped by host and working directory, a new session after
-- `session_inactivity_gap_minutes` without calls. Decided per id over everything staged, so the
-- days a run rebuilds see the counts a full refresh sees. A run by day counts the ids of its
-- calls on the days it rebuilds as staged and on the other days as the fact holds them (an
-- index lookup per id): those days did not change, and counting all of staging was most of a
-- nightly build at 5 M events. The fact's rows before the retention horizon are not staged any
-- more, so not counted, as a full refresh would not. (A backfill of purged days stages some of
-- them again until the next purge: a full refresh then counts them, this does not.)
session_id_calls as (
    
        select
            source_system,
            source_session_id,
            sum(call_count) as call_count
        from (
            select
                source_system,
                source_session_id,
                count(*) as call_count
            from collector_shaped
            group by source_system, source_session_id
            union all
            select
                wanted.source_system,
                wanted.source_session_id,
                found.call_count
            from (
                select distinct
                    source_system,
                    source_session_id
                from collector_shaped
                where source_session_id is not null
            ) as wanted
            -- `offset 0` keeps the lookup per id: flattened, it became a hash of the fact.
            cross join lateral (
                select count(*) as call_count from "warehouse"."intermediate"."int_agent_calls_unioned" as calls
                where calls.source_system = wanted.source_system
                    and calls.source_session_id = wanted.source_session_id
                    and not calls.call_date = any(array['2026-12-02', '2026-12-03']::date[])
                    and calls.occurred_at >= (select coalesce(max(cutoff), '-infinity'::timestamptz)
     from "warehouse"."raw"."retention_runs")
                offset 0 -- noqa: AM09
            ) as found
        ) as counted
        group by source_system, source_session_id
    
),

with_id_kind as (

    select
        priced.*,
        coalesce(priced.host_id is not null and session_id_calls.call_count = 1, false)
            as is_session_derived
    from priced
    left join session_id_calls
        on priced.source_system = session_id_calls.source_system
            and priced.source_session_id = session_id_calls.source_session_id

),

anchors as (
    
        select
            call_id,
            source_system,
            host_id,
            coalesce(working_dir, '') as directory,
            occurred_at,
            session_id as anchor_session_id
        from "warehouse"."intermediate"."int_agent_calls_unioned"
        where is_session_derived
            and not ((occurred_at >= '2026-12-02 00:00+00'::timestamptz + interval '0'
             and occurred_at < '2026-12-02 00:00+00'::timestamptz + interval '1 day') or (occurred_at >= '2026-12-03 00:00+00'::timestamptz + interval '0'
             and occurred_at < '2026-12-03 00:00+00'::timestamptz + interval '1 day'))
            and ((occurred_at >= '2026-12-02 00:00+00'::timestamptz + - interval '30 minutes'
             and occurred_at < '2026-12-02 00:00+00'::timestamptz + interval '0') or (occurred_at >= '2026-12-03 00:00+00'::timestamptz + - interval '30 minutes'
             and occurred_at < '2026-12-03 00:00+00'::timestamptz + interval '0'))
    
),

derivable as (

    select
        call_id,
        source_system,
        host_id,
        coalesce(working_dir, '') as directory,
        occurred_at,
        null::text as anchor_session_id
    from with_id_kind
    where is_session_derived
    union all
    select * from anchors

),

gaps as (

    select
        *,
        case
            when occurred_at - lag(occurred_at) over directory_calls <= interval '30 minutes' then 0
            else 1
        end as starts_session
    from derivable
    window directory_calls as (
        partition by source_system, host_id, directory order by occurred_at, call_id
    )

),

islands as (

    select
        *,
        sum(starts_session) over (
            partition by source_system, host_id, directory order by occurred_at, call_id
            rows unbounded preceding
        ) as island
    from gaps

),

derived_sessions as (

    select
        call_id,
        anchor_session_id is not null as is_anchor,
        coalesce(
            first_value(anchor_session_id) over island_calls,
            'derived:' || md5(
                source_system || '|' || host_id || '|' || directory || '|'
                || extract(epoch from first_value(occurred_at) over island_calls)::text
            )
        ) as session_id
    from islands
    window island_calls as (
        partition by source_system, host_id, directory, island order by occurred_at, call_id
    )

),

final as (

    select
        -- ids
        with_id_kind.call_id,
        with_id_kind.source_system,
        with_id_kind.tenant_id,
        with_id_kind.host_id,
        coalesce(derived_sessions.session_id, with_id_kind.source_session_id) as session_id,
        with_id_kind.source_session_id,

        -- strings
        with_id_kind.working_dir,
        with_id_kind.agent_name,
        with_id_kind.hook_name,
        with_id_kind.tool_name,
        with_id_kind.model_name,
        case
        when with_id_kind.model_name is null then null
        when with_id_kind.model_name like '%/%' then lower(split_part(with_id_kind.model_name, '/', 1))
        when with_id_kind.model_name ~* '^claude' then 'anthropic'
        when with_id_kind.model_name ~* '^(gpt|o[0-9]|text-|davinci)' then 'openai'
        when with_id_kind.model_name ~* '^gemini' then 'google'
        when with_id_kind.model_name ~* '^(mistral|mixtral|codestral)' then 'mistral'
        else 'unknown'
    end as model_provider,
        with_id_kind.event_type,
        with_id_kind.decision,
        -- strings (reason texts were redacted at load)
        with_id_kind.reason_text,
        with_id_kind.error_class,
        case
        when not (with_id_kind.decision = 'ERROR') then null
        when with_id_kind.reason_text ~* 'rate.?limit|429|too.?many.?requests' then 'rate_limit'
        when with_id_kind.reason_text ~* 'timeout|timed.?out|deadline' then 'timeout'
        when with_id_kind.reason_text ~* 'auth|unauthorized|403|401' then 'auth_failure'
        when with_id_kind.reason_text ~* 'network|connection|refused|unreachable' then 'network'
        when with_id_kind.reason_text ~* 'validation|invalid|schema' then 'validation'
        when with_id_kind.reason_text ~* 'tool.?error|tool.?failed' then 'tool_error'
        else 'other'
    end
            as error_category,
        case
            when with_id_kind.is_token_estimated then 'estimated'
            when with_id_kind.is_llm_call
                or coalesce(
                    with_id_kind.total_tokens, with_id_kind.prompt_tokens,
                    with_id_kind.completion_tokens
                ) is not null then 'reported'
        end as token_basis,
        case
            when with_id_kind.cost_usd is not null then 'reported'
            when coalesce(with_id_kind.priced_cost_usd, with_id_kind.seed_priced_cost_usd)
                is not null then 'priced'
        end as cost_basis,

        -- numerics
        with_id_kind.latency_ms,
        -- integer per call, so that sums stay bigint rather than numeric
        case
            when with_id_kind.is_token_estimated then with_id_kind.estimated_prompt_tokens
            else coalesce(with_id_kind.prompt_tokens, 0)
        end::integer as prompt_tokens,
        coalesce(with_id_kind.completion_tokens, 0)::integer as completion_tokens,
        coalesce(with_id_kind.cached_tokens, 0)::integer as cached_tokens,
        coalesce(with_id_kind.reasoning_tokens, 0)::integer as reasoning_tokens,
        coalesce(with_id_kind.cache_creation_tokens, 0)::integer as cache_creation_tokens,
        coalesce(with_id_kind.cache_creation_5m_tokens, 0)::integer as cache_creation_5m_tokens,
        coalesce(with_id_kind.cache_creation_1h_tokens, 0)::integer as cache_creation_1h_tokens,
        case
            when with_id_kind.is_token_estimated then with_id_kind.estimated_prompt_tokens
            else coalesce(with_id_kind.total_tokens, 0)
        end::integer as total_tokens,
        coalesce(
            with_id_kind.cost_usd, with_id_kind.priced_cost_usd, with_id_kind.seed_priced_cost_usd
        ) as cost_usd,
        with_id_kind.retry_count,

        -- booleans
        with_id_kind.is_success,
        with_id_kind.decision = 'ERROR' as is_error,
        with_id_kind.is_llm_call,
        with_id_kind.is_tool_call,
        with_id_kind.is_token_estimated,
        with_id_kind.is_session_derived,

        -- timestamps
        with_id_kind.occurred_at,
        with_id_kind.call_date,
        with_id_kind.loaded_at as source_loaded_at,
        now() as rebuilt_at

    from with_id_kind
    left join derived_sessions
        on with_id_kind.call_id = derived_sessions.call_id
            and not derived_sessions.is_anchor

)

select * from final