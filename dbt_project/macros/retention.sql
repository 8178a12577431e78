{#- Retention (seed 003, `atw` asset ops/retention): raw events older than the retention are
    deleted, and raw.retention_runs records the cutoff. Days before the latest cutoff are final
    in every model that keeps detail: they are never rebuilt from raw (which no longer holds
    them) and never deleted, so no mart number changes when raw data goes. -#}

{#- The latest cutoff, -infinity before any purge: a SQL expression (timestamptz). -#}
{% macro retention_horizon() -%}
    (select coalesce(max(cutoff), '-infinity'::timestamptz)
     from {{ source('raw_ops', 'retention_runs') }})
{%- endmacro %}

{#- The model's own table as it stands, or none (first build; unit tests have no `this`). -#}
{% macro existing_relation() -%}
    {{ return(load_relation(this) if execute and this is not none else none) }}
{%- endmacro %}

{#- For a table model that reads raw-backed staging: its rows from the horizon on are rebuilt,
    its rows before the horizon are carried over from the table as it was. Append after the
    model's final `select * from final`. A row whose key was carried over is not rebuilt: one
    Claude Code response logs lines on both sides of midnight, and the purge takes only the
    earlier ones. On a first build there is nothing to carry over. A change to the model's
    columns after a purge must carry the old rows over by hand. -#}
{% macro keep_rows_before_retention_horizon(time_column, key_column) -%}
    {%- if existing_relation() is not none %}
    where {{ time_column }} >= {{ retention_horizon() }}
        and not exists (
            select 1 from {{ this }} as kept
            where kept.{{ key_column }} = final.{{ key_column }}
                and kept.{{ time_column }} < {{ retention_horizon() }}
        )
    union all
    select * from {{ this }}
    where {{ time_column }} < {{ retention_horizon() }}
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
