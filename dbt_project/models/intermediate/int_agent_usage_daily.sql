{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='call_date',
        on_schema_change='fail',
        pre_hook="select pg_advisory_xact_lock(hashtext('{{ this }}'))",
        post_hook=[
            "{{ delete_rows_left_on_build_days() }}",
            "{{ delete_days_missing_from(ref('int_agent_calls_unioned')) }}",
            "{{ record_build_watermark() }}",
        ],
        indexes=[{'columns': ['call_date']}, {'columns': ['rebuilt_at']}],
    )
}}
{#- The calls fact summed per UTC day, tenant, agent, source and model: the partial aggregates
    dim_agents and dim_models roll up, so that they read a row per group and day instead of a
    row per call. Their distinct counts (tenants, sources) and the main model are of the group
    columns, so rolling up keeps them exact. Incremental by day, as int_calls_daily. -#}
{%- set days = fact_rebuilt_days(ref('int_agent_calls_unioned')) -%}
with

calls as (

    select * from {{ ref('int_agent_calls_unioned') }}
    where {{ on_days('call_date', days) }}

),

final as (

    select
        call_date,
        tenant_id,
        agent_name,
        source_system,
        model_name,
        min(model_provider) as model_provider,
        count(*) as call_count,
        count(*) filter (where is_llm_call) as llm_call_count,
        count(*) filter (where is_error) as error_count,
        sum(prompt_tokens) as prompt_tokens,
        sum(completion_tokens) as completion_tokens,
        sum(total_tokens) as total_tokens,
        sum(cost_usd) as cost_usd,
        {{ unpriced_llm_calls() }} as unpriced_llm_call_count,
        count(*) filter (where cost_basis = 'reported') as reported_cost_call_count,
        count(*) filter (where cost_basis = 'priced') as priced_cost_call_count,
        count(*) filter (where cost_usd is null) as unpriced_call_count,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        now() as rebuilt_at
    from calls
    group by call_date, tenant_id, agent_name, source_system, model_name

)

select * from final
