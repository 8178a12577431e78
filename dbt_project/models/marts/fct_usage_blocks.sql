{#- One row per 5-hour billing block that started on or after the downsample cutoff
    (macros/retention.sql); older blocks are kept at daily grain in fct_usage_blocks_daily. -#}
with

blocks as (

    select * from {{ ref('int_usage_blocks') }}

),

final as (

    select * from blocks
    where block_start_at >= {{ downsample_horizon() }}

)

select * from final
