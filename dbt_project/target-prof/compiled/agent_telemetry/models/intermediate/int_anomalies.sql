with

calls as (

    select * from "warehouse"."intermediate"."int_agent_calls_unioned"

),

-- The calls of the days whose spikes are recomputed, and of the window before them.
latency_calls as (

    select * from calls
    where latency_ms is not null and 
        call_date = any(array(
            select distinct recomputed.day - earlier.days
            from int_anomalies__latency_days as recomputed
            cross join generate_series(0, 7) as earlier (days)
        ))

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
        occurred_at - interval '7 days' as sort_at,
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
    where calls.call_date in (select day from int_anomalies__latency_days)

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
            (baseline_mean_ms + 3 * baseline_stddev_ms)::numeric,
            3
        ) as threshold,
        1 as call_count,
        jsonb_build_object(
            'baseline_mean_ms', round(baseline_mean_ms::numeric, 3),
            'baseline_stddev_ms', round(baseline_stddev_ms::numeric, 3),
            'baseline_samples', baseline_samples
        ) as detail
    from latency_baselines
    where baseline_samples >= 30
        and latency_ms > baseline_mean_ms + 3 * baseline_stddev_ms

),

error_calls as (

    select distinct on (calls.call_id)
        calls.call_id,
        calls.tenant_id,
        calls.agent_name,
        calls.occurred_at,
        exists (
            select from int_anomalies__cluster_ranges as inside
            where calls.occurred_at between inside.range_start and inside.range_end
        ) as in_range
    from int_anomalies__cluster_ranges as ranges
    inner join "warehouse"."intermediate"."int_agent_calls_unioned" as calls
        on calls.occurred_at between ranges.range_start - interval '10 minutes'
            and ranges.range_end
    where calls.is_error
    order by calls.call_id

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
            range between interval '10 minutes' preceding and current row
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
        occurred_at - interval '10 minutes' as window_start,
        occurred_at as window_end
    from errors
    where errors_in_window >= 5

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
        5::numeric as threshold,
        count(*) as call_count,
        jsonb_build_object(
            'window_minutes', 10,
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