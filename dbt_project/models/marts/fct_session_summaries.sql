{#- One row per session that started on or after the downsample cutoff (macros/retention.sql);
    older sessions are kept at daily grain in fct_sessions_daily. -#}
with

sessions as (

    select * from {{ ref('int_sessions_scored') }}

),

final as (

    -- Every column of int_sessions_scored but when it was scored (its checks' window).
    select {{ columns_except(ref('int_sessions_scored'), ['rebuilt_at']) }}
    from sessions
    where started_at >= {{ downsample_horizon() }}

)

select * from final
