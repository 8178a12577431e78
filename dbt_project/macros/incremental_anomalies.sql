{#- int_anomalies by UTC day. A call's latency baseline is its agent's calls over the
    `anomaly_window_days` days before it, so a call fact day that changed since the model's
    build watermark (macros/incremental_days.sql) changes the spikes of that day and of the
    `anomaly_window_days` days after it; those days' spikes are recomputed from the calls of
    their days and of the window before them. Error clusters chain across any span, so they are
    recomputed over time ranges that no cluster crosses (cluster_ranges_table). -#}

{#- The temp tables the pre-hooks fill: the call days that changed, the days whose spikes this
    build recomputes, and the time ranges whose error clusters it recomputes. -#}
{% macro changed_days_table() -%}
    {{ this.identifier }}__changed_days
{%- endmacro %}

{% macro latency_days_table() -%}
    {{ this.identifier }}__latency_days
{%- endmacro %}

{% macro cluster_ranges_table() -%}
    {{ this.identifier }}__cluster_ranges
{%- endmacro %}

{% macro cluster_window() -%}
    interval '{{ var('error_cluster_window_minutes') }} minutes'
{%- endmacro %}

{#- The trailing window, in whole days (a fraction of a day reaches into one more day). -#}
{% macro anomaly_window_whole_days() -%}
    {{ (var('anomaly_window_days') | float) | round(0, 'ceil') | int }}
{%- endmacro %}

{#- Pre-hook (inside the build's transaction), after the model's lock: the days whose spikes
    change, from the call fact days rebuilt since the watermark, the days raw rows left
    (raw.changed_days: a day the fact lost entirely; not one before the retention horizon, which
    the fact keeps as it was) and the run's partition window. Filled
    once, so the delete and the insert agree whatever commits in between. -#}
{% macro stage_latency_days(calls) %}
    {%- if execute and is_incremental() -%}
    {%- set since = build_watermark() -%}
    {%- set window = partition_window_days() -%}
    create temporary table {{ changed_days_table() }} on commit drop as
    {{ changed_call_days(calls, since) }}
    {%- if window %}
    union
    {{ window }}
    {%- endif %};

    create temporary table {{ latency_days_table() }} on commit drop as
    select distinct changed.day + later.days as day
    from {{ changed_days_table() }} as changed
    cross join generate_series(0, {{ anomaly_window_whole_days() }}) as later (days);
    analyze {{ latency_days_table() }};

    {#- An error's window is the `error_cluster_window_minutes` before it, so a changed day moves
        the windows ending on it or up to one window after it: [day - W, day + 1 + W]. A stored
        cluster spans its windows, [its first error - W, its last error] at most; a range that
        meets one takes all of it, and a cluster it meets in turn, so no cluster, stored or
        recomputed, crosses a range's bounds: outside them nothing changes. Overlapping spans
        merge as islands (of every tenant: a bound no tenant's cluster crosses). -#}
    create temporary table {{ cluster_ranges_table() }} on commit drop as
    with spans as (
        select
            {{ utc_day_start('day') }} - {{ cluster_window() }} as range_start,
            {{ utc_day_start('day + 1') }} + {{ cluster_window() }} as range_end,
            true as is_changed
        from {{ changed_days_table() }}
        union all
        select
            started_at - {{ cluster_window() }} as range_start,
            ended_at as range_end,
            false as is_changed
        from {{ this }}
        where anomaly_type = 'error_cluster'
    ),

    flagged as (
        select
            *,
            case
                when range_start <= max(range_end) over (
                        order by range_start, range_end
                        rows between unbounded preceding and 1 preceding
                    )
                    then 0
                else 1
            end as starts_range
        from spans
    ),

    numbered as (
        select
            *,
            sum(starts_range) over (order by range_start, range_end rows unbounded preceding)
                as range_number
        from flagged
    )

    select
        min(range_start) as range_start,
        max(range_end) as range_end
    from numbered
    group by range_number
    having bool_or(is_changed);
    analyze {{ cluster_ranges_table() }}
    {%- else -%}
    select 1
    {%- endif -%}
{% endmacro %}

{#- Pre-hook after it: the spikes of those days and the error clusters in those ranges go; the
    build inserts them again. -#}
{% macro delete_recomputed_anomalies() %}
    {%- if execute and is_incremental() -%}
    delete from {{ this }}
    where (
            anomaly_type = 'error_cluster'
            and exists (
                select from {{ cluster_ranges_table() }} as ranges
                where {{ this }}.started_at <= ranges.range_end
                    and {{ this }}.ended_at >= ranges.range_start
            )
        )
        or (
            anomaly_type = 'latency_spike'
            and ({{ utc('started_at') }})::date in (select day from {{ latency_days_table() }})
        )
    {%- else -%}
    select 1
    {%- endif -%}
{% endmacro %}

{#- Predicates on a `call_date` column: the days whose spikes are recomputed, and those days
    with the window before them (the calls their baselines read); every day on a full build. -#}
{% macro on_latency_days(column) -%}
    {%- if is_incremental() -%}
        {{ column }} in (select day from {{ latency_days_table() }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{% macro on_latency_baseline_days(column) -%}
    {%- if is_incremental() -%}
        {#- An array, not `in (select ...)`: the days prune the calls fact's monthly partitions
            when the statement starts, where a semi-join read all of them (1.4 s to 0.03 s at
            5 M events). #}
        {{ column }} = any(array(
            select distinct recomputed.day - earlier.days
            from {{ latency_days_table() }} as recomputed
            cross join generate_series(0, {{ anomaly_window_whole_days() }}) as earlier (days)
        ))
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- The error calls whose clusters are recomputed: on an incremental build, those in the ranges
    and the window before each (which their counts read), through the fact's `occurred_at`
    index, each once; `in_range` says which may join a cluster. Every error on a full build. -#}
{% macro cluster_errors(calls) -%}
    {%- if is_incremental() -%}
    select distinct on (calls.call_id)
        calls.call_id,
        calls.tenant_id,
        calls.agent_name,
        calls.occurred_at,
        exists (
            select from {{ cluster_ranges_table() }} as inside
            where calls.occurred_at between inside.range_start and inside.range_end
        ) as in_range
    from {{ cluster_ranges_table() }} as ranges
    inner join {{ calls }} as calls
        on calls.occurred_at between ranges.range_start - {{ cluster_window() }}
            and ranges.range_end
    where calls.is_error
    order by calls.call_id
    {%- else -%}
    select
        call_id,
        tenant_id,
        agent_name,
        occurred_at,
        true as in_range
    from {{ calls }}
    where is_error
    {%- endif -%}
{%- endmacro %}
