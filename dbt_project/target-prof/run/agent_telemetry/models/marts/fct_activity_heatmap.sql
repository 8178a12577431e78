
  
    

  create  table "warehouse"."marts"."fct_activity_heatmap__dbt_tmp"
  
  
    as
  
  (
    with

calls_daily as (

    select * from "warehouse"."intermediate"."int_calls_daily"

),

final as (

    select
        tenant_id,
        source_system,
        extract(dow from call_date)::integer as day_of_week,
        hour_of_day,
        sum(call_count)::bigint as call_count,
        sum(total_tokens)::bigint as total_tokens
    from calls_daily
    group by 1, 2, 3, 4

)

select * from final
  );
  