{{ config(materialized='view') }}
{#- Alerts with their acknowledgement, live: a view, so `atw ack` shows at once. -#}
with

alerts as (

    select * from {{ ref('fct_alerts') }}

),

acknowledgements as (

    select * from {{ source('ops', 'alert_acknowledgements') }}

),

final as (

    select
        alerts.*,
        acknowledgements.alert_id is not null as is_acknowledged,
        acknowledgements.acknowledged_by,
        acknowledgements.acknowledged_at,
        acknowledgements.note as acknowledgement_note
    from alerts
    left join acknowledgements
        on alerts.alert_id = acknowledgements.alert_id

)

select * from final
