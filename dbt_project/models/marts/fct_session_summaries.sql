{#- One row per session that started on or after the downsample cutoff (macros/retention.sql);
    older sessions are kept at daily grain in fct_sessions_daily. -#}
with

sessions as (

    select * from {{ ref('int_sessions_scored') }}

),

final as (

    select * from sessions
    where started_at >= {{ downsample_horizon() }}

)

select * from final
