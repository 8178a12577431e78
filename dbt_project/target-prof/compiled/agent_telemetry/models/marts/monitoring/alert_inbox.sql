with

alerts as (

    select * from "warehouse"."marts"."fct_alerts"

),

acknowledgements as (

    select * from "warehouse"."ops"."alert_acknowledgements"

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