with

anomalies as (

    select * from "warehouse"."intermediate"."int_anomalies"

),

final as (

    select * from anomalies
    where started_at >= (select coalesce(max(cutoff), '-infinity'::timestamptz)
     from "warehouse"."raw"."downsample_runs")

)

select * from final