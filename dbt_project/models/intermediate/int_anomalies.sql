{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=[
            "select pg_advisory_xact_lock(hashtext('{{ this }}'))",
            "{{ stage_latency_days(ref('int_agent_calls_unioned')) }}",
            "{{ delete_recomputed_anomalies() }}",
        ],
        post_hook=["{{ record_build_watermark() }}"],
    )
}}
{#- Seed 003's anomalies, one row each:
    - latency_spike: a call slower than mean + `anomaly_latency_sigmas` standard deviations of
      its agent's calls over the trailing `anomaly_window_days` days (the call itself excluded),
      once that window holds at least `anomaly_min_samples` calls;
    - error_cluster: at least `error_cluster_min_errors` errors of one tenant within
      `error_cluster_window_minutes`; overlapping windows merge into one cluster.
    Incremental by UTC day for the spikes, and over time ranges around the changed days that
    no cluster crosses for the clusters (macros/incremental_anomalies.sql). -#}
{%- do take_build_horizon() -%}
{%- set window = "interval '" ~ var('anomaly_window_days') ~ " days'" -%}
with

calls as (

    select * from {{ ref('int_agent_calls_unioned') }}

),

-- The calls of the days whose spikes are recomputed, and of the window before them.
latency_calls as (

    select * from calls
    where latency_ms is not null and {{ on_latency_baseline_days('call_date') }}

),

-- The trailing window's sums are running sums at the call (its peers at the same instant
-- included, as a `range` frame's current row) less running sums just before the window's start,
-- read at a probe placed there. Running sums stream through a sorted input; a `range` frame of
-- 7 days keeps the whole frame in a tuplestore that, once an agent's week outgrows work_mem,
-- spills and is re-read row by row. The call itself is taken off the sums rather than with
-- `exclude current row`, which would turn off moving aggregation. Integer sums stay exact.
timed_calls as (

    select
        call_id,
        agent_name,
        occurred_at as sort_at,
        1 as is_call,
        1 as samples,
        latency_ms::bigint as latency_sum,
        latency_ms::bigint * latency_ms as latency_sum_of_squares
    from latency_calls

    union all

    -- Probes sort before the calls of their instant: they sum the calls strictly before it.
    select
        call_id,
        agent_name,
        occurred_at - {{ window }} as sort_at,
        0 as is_call,
        0 as samples,
        0 as latency_sum,
        0 as latency_sum_of_squares
    from latency_calls

),

running_sums as (

    select
        call_id,
        is_call,
        sum(samples) over running as samples,
        sum(latency_sum) over running as latency_sum,
        sum(latency_sum_of_squares) over running as latency_sum_of_squares
    from timed_calls
    window running as (
        partition by agent_name order by sort_at, is_call
        range between unbounded preceding and current row
    )

),

latency_windows as (

    select
        calls.call_id,
        calls.tenant_id,
        calls.agent_name,
        calls.latency_ms,
        calls.occurred_at,
        (through_call.samples - before_window.samples - 1)::bigint as baseline_samples,
        through_call.latency_sum - before_window.latency_sum - calls.latency_ms
            as baseline_sum,
        (
            through_call.latency_sum_of_squares - before_window.latency_sum_of_squares
            - calls.latency_ms::bigint * calls.latency_ms
        ) as baseline_sum_of_squares
    from latency_calls as calls
    inner join running_sums as through_call
        on calls.call_id = through_call.call_id and through_call.is_call = 1
    inner join running_sums as before_window
        on calls.call_id = before_window.call_id and before_window.is_call = 0
    where {{ on_latency_days('calls.call_date') }}

),

latency_baselines as (

    select
        *,
        baseline_sum::numeric / nullif(baseline_samples, 0) as baseline_mean_ms,
        sqrt(greatest(
            (
                baseline_sum_of_squares - baseline_sum::numeric * baseline_sum
                / nullif(baseline_samples, 0)
            ) / nullif(baseline_samples - 1, 0),
            0
        )) as baseline_stddev_ms
    from latency_windows

),

latency_spikes as (

    select
        md5('latency_spike|' || call_id) as anomaly_id,
        'latency_spike' as anomaly_type,
        tenant_id,
        agent_name,
        call_id,
        occurred_at as started_at,
        occurred_at as ended_at,
        latency_ms::numeric as observed_value,
        round(
            (baseline_mean_ms + {{ var('anomaly_latency_sigmas') }} * baseline_stddev_ms)::numeric,
            3
        ) as threshold,
        1 as call_count,
        jsonb_build_object(
            'baseline_mean_ms', round(baseline_mean_ms::numeric, 3),
            'baseline_stddev_ms', round(baseline_stddev_ms::numeric, 3),
            'baseline_samples', baseline_samples
        ) as detail
    from latency_baselines
    where baseline_samples >= {{ var('anomaly_min_samples') }}
        and latency_ms > baseline_mean_ms + {{ var('anomaly_latency_sigmas') }} * baseline_stddev_ms

),

error_calls as (

    {{ cluster_errors(ref('int_agent_calls_unioned')) }}

),

counted_errors as (

    select
        call_id,
        tenant_id,
        agent_name,
        occurred_at,
        in_range,
        count(*) over (
            partition by tenant_id order by occurred_at
            range between {{ cluster_window() }} preceding and current row
        ) as errors_in_window
    from error_calls

),

-- The errors that may join a cluster (those before the ranges only fill their windows).
errors as (

    select * from counted_errors
    where in_range

),

-- Each error that completes a window of enough errors opens an interval [its time - W, its
-- time]; overlapping intervals of a tenant form one cluster.
dense_windows as (

    select
        tenant_id,
        occurred_at - {{ cluster_window() }} as window_start,
        occurred_at as window_end
    from errors
    where errors_in_window >= {{ var('error_cluster_min_errors') }}

),

window_islands as (

    select
        *,
        sum(starts_cluster) over (
            partition by tenant_id order by window_start, window_end rows unbounded preceding
        ) as cluster_number
    from (
        select
            *,
            case
                when window_start <= max(window_end)
                        over (
                            partition by tenant_id order by window_start, window_end
                            rows between unbounded preceding and 1 preceding
                        )
                    then 0
                else 1
            end as starts_cluster
        from dense_windows
    ) as flagged

),

cluster_bounds as (

    select
        tenant_id,
        cluster_number,
        min(window_start) as window_start,
        max(window_end) as window_end
    from window_islands
    group by tenant_id, cluster_number

),

-- Each error goes to the cluster of its tenant that started last at or before it, if it ends
-- at or after it: clusters are disjoint, so a window over the time line places every error in
-- one sort. A join on the time ranges compared each cluster with each error of its tenant:
-- minutes at 5 M events.
timeline as (

    select
        tenant_id,
        window_start as placed_at,
        0 as is_error,
        cluster_number,
        null::text as agent_name
    from cluster_bounds

    union all

    select
        tenant_id,
        occurred_at as placed_at,
        1 as is_error,
        null::bigint as cluster_number,
        agent_name
    from errors

),

placed_errors as (

    select
        *,
        max(cluster_number) over (
            partition by tenant_id order by placed_at, is_error rows unbounded preceding
        ) as latest_cluster_number
    from timeline

),

clustered_errors as (

    select
        placed_errors.tenant_id,
        placed_errors.latest_cluster_number as cluster_number,
        placed_errors.agent_name,
        placed_errors.placed_at as occurred_at
    from placed_errors
    inner join cluster_bounds
        on
            placed_errors.tenant_id = cluster_bounds.tenant_id
            and placed_errors.latest_cluster_number = cluster_bounds.cluster_number
    where placed_errors.is_error = 1 and placed_errors.placed_at <= cluster_bounds.window_end

),

error_clusters as (

    select
        md5(
            'error_cluster|' || tenant_id || '|'
            || extract(epoch from min(occurred_at))::text
        ) as anomaly_id,
        'error_cluster' as anomaly_type,
        tenant_id,
        case when count(distinct agent_name) = 1 then min(agent_name) end as agent_name,
        null::text as call_id,
        min(occurred_at) as started_at,
        max(occurred_at) as ended_at,
        count(*)::numeric as observed_value,
        {{ var('error_cluster_min_errors') }}::numeric as threshold,
        count(*) as call_count,
        jsonb_build_object(
            'window_minutes', {{ var('error_cluster_window_minutes') }},
            'agents', jsonb_agg(distinct agent_name)
        ) as detail
    from clustered_errors
    group by tenant_id, cluster_number

),

final as (

    select * from latency_spikes
    union all
    select * from error_clusters

)

select * from final
