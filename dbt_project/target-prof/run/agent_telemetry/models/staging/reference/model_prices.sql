
  
    

  create  table "warehouse"."reference"."model_prices__dbt_tmp"
  
  
    as
  
  (
    
with

catalogue as (

    select * from "warehouse"."raw"."model_price_catalogue"

),

overrides as (

    select * from "warehouse"."reference"."model_price_overrides"

),

aliases as (

    select * from "warehouse"."reference"."model_aliases"

),

overridden as (

    select model_name, valid_from, input_per_mtok, output_per_mtok, cache_write_5m_per_mtok, cache_write_1h_per_mtok,
    cache_read_per_mtok, tier_threshold_tokens::bigint as tier_threshold_tokens,
    input_above_per_mtok, output_above_per_mtok, cache_write_5m_above_per_mtok,
    cache_write_1h_above_per_mtok, cache_read_above_per_mtok, 'override seed' as price_source
    from overrides

),

aliased as (

    select
        aliases.model_name, catalogue.valid_from, input_per_mtok, output_per_mtok, cache_write_5m_per_mtok, cache_write_1h_per_mtok,
    cache_read_per_mtok, tier_threshold_tokens::bigint as tier_threshold_tokens,
    input_above_per_mtok, output_above_per_mtok, cache_write_5m_above_per_mtok,
    cache_write_1h_above_per_mtok, cache_read_above_per_mtok,
        catalogue.catalogue || ': ' || catalogue.matched_model || ' (alias)' as price_source
    from aliases
    inner join catalogue on aliases.priced_as = catalogue.model_name

),

catalogued as (

    select
        model_name, valid_from, input_per_mtok, output_per_mtok, cache_write_5m_per_mtok, cache_write_1h_per_mtok,
    cache_read_per_mtok, tier_threshold_tokens::bigint as tier_threshold_tokens,
    input_above_per_mtok, output_above_per_mtok, cache_write_5m_above_per_mtok,
    cache_write_1h_above_per_mtok, cache_read_above_per_mtok,
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
  );
  