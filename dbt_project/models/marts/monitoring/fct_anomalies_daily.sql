{#- Anomalies per UTC day of their start, tenant, type and agent, for every day: fct_anomalies
    keeps only the anomalies after the downsample cutoff, this keeps their daily counts. -#}
with

anomalies as (

    select * from {{ ref('int_anomalies') }}

),

final as (

    select
        -- ids
        md5(concat_ws(
            '|', to_char({{ utc('started_at') }}, 'YYYY-MM-DD'), tenant_id,
            anomaly_type, coalesce(agent_name, '~')
        )) as anomalies_daily_key,
        {{ utc('started_at') }}::date as anomaly_date,
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
