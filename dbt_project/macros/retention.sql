{#- Retention (seed 003, `atw` asset ops/retention): raw events older than the retention are
    deleted, and raw.retention_runs records the cutoff. Days before the latest cutoff are final
    in every model that keeps detail: they are never rebuilt from raw (which no longer holds
    them) and never deleted, so no mart number changes when raw data goes. -#}

{#- The latest cutoff, -infinity before any purge: a SQL expression (timestamptz). -#}
{% macro retention_horizon() -%}
    (select coalesce(max(cutoff), '-infinity'::timestamptz)
     from {{ source('raw_ops', 'retention_runs') }})
{%- endmacro %}

{#- For a table model that reads raw-backed staging: its rows from the horizon on are rebuilt,
    its rows before the horizon are carried over from the table as it was. Append after the
    model's final `select * from final`. A row whose key was carried over is not rebuilt: one
    Claude Code response logs lines on both sides of midnight, and the purge takes only the
    earlier ones. On a first build there is nothing to carry over. Given `columns` (the model's,
    in order) the old rows are read by name, so a column added since they were built is null in
    them; without it the table's columns must be the model's, position by position. On an
    incremental build the rows before the horizon stay where they are: only the new rows are
    filtered. -#}
{% macro keep_rows_before_retention_horizon(time_column, key_column, columns=none) -%}
    {%- set existing = existing_relation() -%}
    {%- if existing is not none %}
    where {{ time_column }} >= {{ retention_horizon() }}
        and not exists (
            select 1 from {{ this }} as kept
            where kept.{{ key_column }} = final.{{ key_column }}
                and kept.{{ time_column }} < {{ retention_horizon() }}
        )
    {%- if not is_incremental() %}
    union all
    {%- if columns is none %}
    select * from {{ this }}
    {%- else %}
    {#- By name: a column the table as built before did not have yet is null in its rows. -#}
    {%- set built = adapter.get_columns_in_relation(existing) | map(attribute='name') | list %}
    select
        {%- for column in columns %}
        {{ column if column in built else 'null' }} as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ this }}
    {%- endif %}
    where {{ time_column }} < {{ retention_horizon() }}
    {%- endif %}
    {%- endif %}
{%- endmacro %}

{#- For an incremental model by day that reads raw-backed staging: a full refresh rebuilds the
    days from the retention horizon's on and carries the days before it over from the table as it
    was, as incremental builds (which never rebuild them) keep them. Append after the model's
    final `select * from final`; the table's columns must be the model's, position by position.
    -#}
{% macro keep_days_before_retention_horizon(day_column) -%}
    where {{ day_column }} >= ({{ retention_horizon() }})::date
    {%- if existing_relation() is not none and not is_incremental() %}
    union all
    select * from {{ this }}
    where {{ day_column }} < ({{ retention_horizon() }})::date
    {%- endif %}
{%- endmacro %}

{#- Downsampling (seed 003 `downsample_after: 30`, same asset): a detailed mart - one row per
    session, billing block or anomaly - keeps rows from the latest downsample cutoff on; its
    `_daily` companion keeps every day. Both read the same intermediate model, which keeps
    everything, so the daily numbers never change when detail goes. -#}
{% macro downsample_horizon() -%}
    (select coalesce(max(cutoff), '-infinity'::timestamptz)
     from {{ source('raw_ops', 'downsample_runs') }})
{%- endmacro %}
