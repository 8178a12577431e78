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
    model's final `select * from final`. On a first build there is nothing to carry over. A
    change to the model's columns after a purge must carry the old rows over by hand. -#}
{% macro keep_rows_before_retention_horizon(time_column) -%}
    {#- Unit tests have no relation of their own (`this` is none there). -#}
    {%- set existing = load_relation(this) if execute and this is not none else none -%}
    {%- if existing is not none %}
    where {{ time_column }} >= {{ retention_horizon() }}
    union all
    select * from {{ this }}
    where {{ time_column }} < {{ retention_horizon() }}
    {%- endif %}
{%- endmacro %}
