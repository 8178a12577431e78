
      insert into "warehouse"."intermediate"."int_anomalies" ("anomaly_id", "anomaly_type", "tenant_id", "agent_name", "call_id", "started_at", "ended_at", "observed_value", "threshold", "call_count", "detail")
    (
        select "anomaly_id", "anomaly_type", "tenant_id", "agent_name", "call_id", "started_at", "ended_at", "observed_value", "threshold", "call_count", "detail"
        from "int_anomalies__dbt_tmp104321214682"
    )


  