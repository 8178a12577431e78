{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='call_date',
        on_schema_change='fail',
        meta={'partition_by_month': 'call_date'},
        pre_hook=[
            "select pg_advisory_xact_lock(hashtext('{{ this }}'))",
            "{{ rename_column_if_present('occurred_on', 'call_date') }}",
        ],
        post_hook=[
            "{{ partition_by_month('call_date') }}",
            {
                'sql': "select raw.name_partitions_after('{{ this }}'::regclass)",
                'transaction': False,
            },
            "{{ delete_vanished_days() }}",
            "{{ stamp_edited_rows() }}",
            "{{ index_if_absent(['occurred_at']) }}",
            "{{ index_if_absent(['call_id']) }}",
            "{{ remember_prices() }}",
            "{{ record_build_watermark(['stg_claude_code__api_responses', 'stg_claude_code__tool_calls', 'int_agent_cli_usage_priced']) }}",
        ],
        indexes=[
            {'columns': ['call_date']},
            {'columns': ['source_system', 'session_id']},
            {'columns': ['source_system', 'source_session_id']},
            {'columns': ['rebuilt_at']},
        ],
    )
}}
{#- Partitioned by month of call_date (macros/partitioned_tables.sql); the second post-hook
    runs after the build commits, to give a full refresh's partitions the model's name. -#}
{#- The pre-hook lock (inside the build's transaction): two runs, a backfill beside the
    nightly run say, rebuild their days one after the other. The occurred_at index (a post-hook:
    it came after tables that incremental builds keep) answers the freshness and volume
    warnings' ranges and fct_recommendations' trailing window. -#}
{#- One row per agent call across sources, each with the same columns, so every mart reads a
    single grain. Duplicates were already removed in staging. Incremental by whole UTC day (see
    macros/incremental_days.sql): a run reads and rewrites only the days it rebuilds. -#}
{%- set days = rebuild_days() -%}
{%- set gap = "interval '" ~ var('session_inactivity_gap_minutes') ~ " minutes'" -%}
with

collector_events as (

    select * from {{ ref('stg_collector__telemetry_events') }}
    where {{ on_days_of('occurred_at', days) }}

),

landed_batch_events as (

    select * from {{ ref('stg_landing__collector_events') }}
    where {{ on_days_of('occurred_at', days) }}

),

landed_metric_events as (

    select * from {{ ref('stg_landing__metric_events') }}
    where {{ on_days_of('occurred_at', days) }}

),

claude_code_responses as (

    select * from {{ ref('int_claude_code_responses_priced') }}
    where {{ on_days_of('occurred_at', days) }}

),

agent_cli_usage as (

    select * from {{ ref('int_agent_cli_usage_priced') }}
    where counts_in_daily and {{ on_days_of('occurred_at', days) }}

),

agent_cli_errors as (

    select * from {{ ref('stg_agent_cli__tool_events') }}
    where tool_name is null and is_error and {{ on_days_of('occurred_at', days) }}

),

model_prices as (

    select * from {{ ref('model_prices') }}

),

-- Collector events and collector batch files share the collector's columns.
collector_shaped as (
    {% for relation in ['collector_events', 'landed_batch_events'] %}
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
            {{ json_count('extra_data', 'inputChars') }}::numeric as input_chars,
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
        from {{ relation }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
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

{# Claude Code: prompt = uncached input, cached = cache reads; total is all four types, as
    ccusage counts it. Tenant = project; agent = `claude-code` for the main agent,
    `claude-code:<subagent type>` for subagent traffic. A line's own costUSD is its reported
    cost; otherwise it is priced. -#}
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

{# The other agent CLIs, counted as ccusage counts each (int_agent_cli_usage_priced): prompt
    = uncached input, completion = output and the output-priced extra (Gemini thoughts,
    OpenCode reasoning), cached = cache reads. Tenant = project (the CLI's name where the log
    names none: OTLP exports, Copilot); agent = the CLI. -#}
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
        {{ utc('occurred_at') }}::date as call_date,
        (
            is_llm_call and input_chars is not null and prompt_tokens is null
            and completion_tokens is null and total_tokens is null
        ) as is_token_estimated,
        round(input_chars / {{ var('estimated_chars_per_token') }})::integer
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
{%- set collector_sources = ['stg_collector__telemetry_events', 'stg_landing__collector_events'] %}
session_id_calls as (
    {% if days is not none %}
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
                select count(*) as call_count from {{ this }} as calls
                where calls.source_system = wanted.source_system
                    and calls.source_session_id = wanted.source_session_id
                    and not {{ on_days('calls.call_date', days) }}
                    and calls.occurred_at >= {{ retention_horizon() }}
                offset 0 -- noqa: AM09
            ) as found
        ) as counted
        group by source_system, source_session_id
    {% else %}
        select
            source_system,
            session_id as source_session_id,
            count(*) as call_count
        from (
            {%- for view in collector_sources %}
                select
                    source_system,
                    session_id
                from {{ ref(view) }}
                {%- if not loop.last %}
                    union all
                {%- endif %}
            {%- endfor %}
        ) as staged
        group by source_system, session_id
    {% endif %}
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

{# On an incremental run a derived session may have begun on a day this run does not rebuild:
    the calls just before each rebuilt day carry their session id in as anchors. -#}
anchors as (
    {% if days %}
        select
            call_id,
            source_system,
            host_id,
            coalesce(working_dir, '') as directory,
            occurred_at,
            session_id as anchor_session_id
        from {{ this }}
        where is_session_derived
            and not {{ in_days('occurred_at', days) }}
            and {{ in_days('occurred_at', days, starts='- ' ~ gap, ends="interval '0'") }}
    {% elif days is none and existing_relation() is not none %}
        {#- A full refresh after a purge: sessions running into the retention horizon keep the
            ids of the calls carried over from before it. -#}
        select
            call_id,
            source_system,
            host_id,
            coalesce(working_dir, '') as directory,
            occurred_at,
            session_id as anchor_session_id
        from {{ this }}
        where is_session_derived
            and occurred_at < {{ retention_horizon() }}
            and occurred_at >= {{ retention_horizon() }} - {{ gap }}
    {% else %}
        select
            null::text as call_id,
            null::text as source_system,
            null::text as host_id,
            null::text as directory,
            null::timestamptz as occurred_at,
            null::text as anchor_session_id
        where false
    {% endif %}
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
            when occurred_at - lag(occurred_at) over directory_calls <= {{ gap }} then 0
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
        {{ model_provider('with_id_kind.model_name') }} as model_provider,
        with_id_kind.event_type,
        with_id_kind.decision,
        -- strings (reason texts were redacted at load)
        with_id_kind.reason_text,
        with_id_kind.error_class,
        {{ error_category('with_id_kind.reason_text', "with_id_kind.decision = 'ERROR'") }}
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
{#- A full refresh rebuilds from raw what raw still holds and keeps the days retention purged. -#}
{% if not is_incremental() -%}
    {{ keep_rows_before_retention_horizon('occurred_at', 'call_id') }}
{%- endif %}
