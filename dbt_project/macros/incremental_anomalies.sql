{#- int_anomalies by UTC day. A call's latency baseline is its agent's calls over the
    `anomaly_window_days` days before it, so a call fact day that changed since the model's
    build watermark (macros/incremental_days.sql) changes the spikes of that day and of the
    `anomaly_window_days` days after it; those days' spikes are recomputed from the calls of
    their days and of the window before them. Error clusters chain across any span, so they are
    recomputed whole, from the error calls only. -#}

{#- The temp table the pre-hooks fill with the days whose spikes this build recomputes. -#}
{% macro latency_days_table() -%}
    {{ this.identifier }}__latency_days
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
    create temporary table {{ latency_days_table() }} on commit drop as
    with changed as (
        {{ changed_call_days(calls, since) }}
        {%- if window %}
        union
        {{ window }}
        {%- endif %}
    )

    select distinct changed.day + later.days as day
    from changed
    cross join generate_series(0, {{ anomaly_window_whole_days() }}) as later (days);
    analyze {{ latency_days_table() }}
    {%- else -%}
    select 1
    {%- endif -%}
{% endmacro %}

{#- Pre-hook after it: the spikes of those days and every error cluster go; the build inserts
    them again. -#}
{% macro delete_recomputed_anomalies() %}
    {%- if execute and is_incremental() -%}
    delete from {{ this }}
    where anomaly_type = 'error_cluster'
        or ({{ utc('started_at') }})::date in (select day from {{ latency_days_table() }})
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
        {{ column }} in (
            select distinct recomputed.day - earlier.days
            from {{ latency_days_table() }} as recomputed
            cross join generate_series(0, {{ anomaly_window_whole_days() }}) as earlier (days)
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
