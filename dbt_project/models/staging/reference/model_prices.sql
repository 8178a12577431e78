{{ config(schema='reference', materialized='table') }}
{% set price_columns -%}
    input_per_mtok, output_per_mtok, cache_write_5m_per_mtok, cache_write_1h_per_mtok,
    cache_read_per_mtok, tier_threshold_tokens::bigint as tier_threshold_tokens,
    input_above_per_mtok, output_above_per_mtok, cache_write_5m_above_per_mtok,
    cache_write_1h_above_per_mtok, cache_read_above_per_mtok
{%- endset %}
{#- How a long-context tier applies (macros/tiered_cost.sql): ccusage 20.0.24 prices Anthropic's
    models (by any provider) per token type past the threshold and every other vendor's by the
    whole request's context, as OpenAI and Google bill it; an override row without a rule,
    `context`. -#}
{% set catalogue_rule -%}
    case
        when {0}matched_provider = 'anthropic' or {0}matched_model like 'claude%' then 'marginal'
        else 'context'
    end as long_context_rule
{%- endset %}
{#- The price of every model the sources logged, per day from `valid_from` until the model's next
    row: the override seed first (private models, prices the catalogue lacks), then the
    catalogue's rows for the name, or for the name an alias seed row prices it as. -#}
with

catalogue as (

    select * from {{ source('reference', 'model_price_catalogue') }}

),

overrides as (

    select * from {{ ref('model_price_overrides') }}

),

aliases as (

    select * from {{ ref('model_aliases') }}

),

overridden as (

    select
        model_name, valid_from, {{ price_columns }},
        coalesce(long_context_rule, 'context') as long_context_rule,
        'override seed' as price_source
    from overrides

),

aliased as (

    select
        aliases.model_name, catalogue.valid_from, {{ price_columns }},
        {{ catalogue_rule.format('catalogue.') }},
        catalogue.catalogue || ': ' || catalogue.matched_model || ' (alias)' as price_source
    from aliases
    inner join catalogue on aliases.priced_as = catalogue.model_name

),

catalogued as (

    select
        model_name, valid_from, {{ price_columns }},
        {{ catalogue_rule.format('') }},
        catalogue || ': ' || matched_model as price_source
    from catalogue
    where model_name not in (select aliases.model_name from aliases)

),

final as (

    select * from overridden
    union all
    select * from aliased
    where model_name not in (select overrides.model_name from overrides)
    union all
    select * from catalogued
    where model_name not in (select overrides.model_name from overrides)

)

select * from final
