{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='usage_key',
        on_schema_change='fail',
        pre_hook=[
            "select pg_advisory_xact_lock(hashtext('{{ this }}'))",
            "{{ add_column_if_absent('rebuilt_at', 'timestamptz', 'truncate table ' ~ this ~ ';') }}",
        ],
        post_hook=[
            "{{ delete_rows_left_on_build_days(\"(occurred_at at time zone 'UTC')::date\") }}",
            "{{ index_if_absent(['rebuilt_at']) }}",
            "{{ remember_prices() }}",
            "{{ record_build_watermark(['stg_agent_cli__usage']) }}",
        ],
        indexes=[
            {'columns': ['usage_key'], 'unique': True}, {'columns': ['occurred_at']},
            {'columns': ['rebuilt_at']},
        ],
    )
}}
{#- Incremental by UTC day as stg_agent_cli__usage (macros/agent_cli.sql), with the days that
    table rebuilt and the days of the records whose model's prices changed since its last
    build. Its watermark is never later
    than the staging table's: a load that commits between the two builds is read again. -#}
{%- set days = agent_cli_changed_days(staged=ref('stg_agent_cli__usage'), repriced=true) -%}
{#- Each agent CLI usage record with its cost: what the CLI recorded (OpenCode's `cost`, Claude
    Code's OTel `cost_usd`), else its tokens at the reference.model_prices row in force on its
    UTC day. Long context as ccusage prices it: `model` by the model's own rule (macros/
    tiered_cost.sql); `whole`, a CLI's own rule, prices every type of a record whose
    `tier_basis_tokens` pass the threshold at the higher rates (Codex: raw input; Gemini: input
    and cache reads). Extra output (Gemini thoughts, OpenCode reasoning) is priced as output. A
    model without a price costs null. -#}
with

usage as (

    select * from {{ ref('stg_agent_cli__usage') }}
    where {{ on_days_of('occurred_at', days) }}

),

model_prices as (

    select * from {{ ref('model_prices') }}

),

price_rows as (

    select
        usage.*,
        prices.valid_from as price_valid_from,
        case when usage.logged_cost_usd is not null then 'logged' else prices.price_source end
            as price_source,
        case
            when usage.tier_rule = 'whole'
                then {{ token_cost(
                    'prices', 'usage.input_tokens',
                    '(usage.output_tokens + usage.extra_output_tokens)',
                    'usage.cache_read_tokens', 'usage.cache_creation_tokens',
                    over='prices.tier_threshold_tokens is not null'
                        ~ ' and usage.tier_basis_tokens > prices.tier_threshold_tokens') }}
            else {{ token_cost(
                'prices', 'usage.input_tokens', '(usage.output_tokens + usage.extra_output_tokens)',
                'usage.cache_read_tokens', 'usage.cache_creation_tokens') }}
        end as priced_cost_usd,
        row_number() over (
            partition by usage.usage_key order by prices.valid_from desc
        ) as price_rank
    from usage
    left join model_prices as prices
        on usage.model_name = prices.model_name
            and prices.valid_from <= {{ utc('usage.occurred_at') }}::date

),

final as (

    select
        usage_key,
        agent_cli,
        file_path,
        record_key,
        record_kind,
        session_id,
        thread_id,
        forked_from_id,
        message_id,
        response_id,
        trace_id,
        project,
        model_name,
        provider,
        tier_rule,
        price_source,
        record_index,
        usage_ordinal,
        input_tokens,
        output_tokens,
        cache_read_tokens,
        cache_creation_tokens,
        reasoning_tokens,
        extra_output_tokens,
        total_tokens,
        tier_basis_tokens,
        request_count,
        logged_cost_usd,
        round(priced_cost_usd::numeric, 10) as priced_cost_usd,
        coalesce(logged_cost_usd, round(priced_cost_usd::numeric, 10)) as cost_usd,
        is_fallback_model,
        is_replayed,
        counts_in_daily,
        counts_in_session,
        coalesce(logged_cost_usd, priced_cost_usd) is not null as is_priced,
        price_valid_from,
        occurred_at,
        loaded_at,
        now() as rebuilt_at
    from price_rows
    where price_rank = 1

)

select * from final
