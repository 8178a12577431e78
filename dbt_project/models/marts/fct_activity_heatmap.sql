{{ config(post_hook="{{ create_activity_heatmap_function() }}") }}
{#- Calls by UTC day of week (0 = Sunday ... 6 = Saturday) and hour; only non-zero cells. -#}
with

calls as (

    select * from {{ ref('int_agent_calls_unioned') }}

),

final as (

    select
        tenant_id,
        extract(dow from {{ utc('occurred_at') }})::integer as day_of_week,
        extract(hour from {{ utc('occurred_at') }})::integer as hour_of_day,
        count(*) as call_count,
        sum(total_tokens) as total_tokens
    from calls
    group by 1, 2, 3

)

select * from final
