
  
    

  create  table "warehouse"."marts"."fct_anomalies_daily__dbt_tmp"
  
  
    as
  
  (
    with

anomalies as (

    select * from "warehouse"."intermediate"."int_anomalies"

),

final as (

    select
        -- ids
        md5(concat_ws(
            '|', to_char((started_at at time zone 'UTC'), 'YYYY-MM-DD'), tenant_id,
            anomaly_type, coalesce(agent_name, '~')
        )) as anomalies_daily_key,
        (started_at at time zone 'UTC')::date as anomaly_date,
        tenant_id,

        -- strings
        anomaly_type,
        -- null: error clusters that span several agents
        agent_name,

        -- numerics
        count(*) as anomaly_count,
        sum(call_count) as call_count,
        max(observed_value) as max_observed_value

    from anomalies
    group by 1, 2, 3, 4, 5

)

select * from final
  );
  