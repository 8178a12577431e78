{#- One row per anomaly that started on or after the downsample cutoff (macros/retention.sql);
    older anomalies are kept at daily grain in fct_anomalies_daily. -#}
with

anomalies as (

    select * from {{ ref('int_anomalies') }}

),

final as (

    select * from anomalies
    where started_at >= {{ downsample_horizon() }}

)

select * from final
