
  
    

  create  table "warehouse"."marts"."fct_usage_blocks__dbt_tmp"
  
  
    as
  
  (
    with

blocks as (

    select * from "warehouse"."intermediate"."int_usage_blocks"

),

final as (

    select * from blocks
    where block_start_at >= (select coalesce(max(cutoff), '-infinity'::timestamptz)
     from "warehouse"."raw"."downsample_runs")

)

select * from final
  );
  