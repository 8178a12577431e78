{#- Whole-UTC-day incremental builds. A run rebuilds the days that raw rows were loaded into,
    changed in or deleted from since the model's last run started (less a safety margin for loads
    that committed late), plus the last `incremental_lookback_days` days. The watermark is the
    run, not the newest row it wrote: raw lines that never become calls (Claude Code user lines,
    say) must not look new forever. A Dagster partition run (or backfill) also passes its window
    (end exclusive) in ATW_DBT_PARTITION_START/ATW_DBT_PARTITION_END, a dbt command by hand in
    the vars `partition_start`/`partition_end`: those days are rebuilt as well. -#}

{#- The raw tables behind the calls fact, each with its event-time column. -#}
{% macro raw_event_sources() %}
    {{ return([
        (source('collector', 'collector_events'), 'created_at'),
        (source('landing', 'landed_collector_events'), 'created_at'),
        (source('landing', 'landed_metric_events'), 'occurred_at'),
        (source('claude_code', 'claude_code_lines'), 'occurred_at'),
    ]) }}
{% endmacro %}

{% macro rebuild_days() %}
    {%- if not (execute and is_incremental()) -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set since -%}
        (select coalesce(max(rebuilt_at), '-infinity'::timestamptz)
            -- A number of hours, fractions included (make_interval takes whole hours only).
            - {{ var('incremental_loaded_at_margin_hours') | float }} * interval '1 hour'
         from {{ this }})
    {%- endset -%}
    {%- set partition_start = var('partition_start', none) or env_var('ATW_DBT_PARTITION_START', '') -%}
    {%- set partition_end = var('partition_end', none) or env_var('ATW_DBT_PARTITION_END', '') -%}
    {%- set query -%}
        select distinct day from (
        {%- for relation, time_column in raw_event_sources() %}
            select ({{ time_column }} at time zone 'UTC')::date as day
            from {{ relation }}
            where _loaded_at > {{ since }} and {{ time_column }} is not null
            union all
        {%- endfor %}
            select day from {{ source('raw_ops', 'changed_days') }}
            where changed_at > {{ since }}
            union all
            select generate_series(
                (now() at time zone 'UTC')::date - {{ var('incremental_lookback_days') }} + 1,
                (now() at time zone 'UTC')::date,
                interval '1 day'
            )::date
        {%- if partition_start and partition_end %}
            union all
            select generate_series(
                {{ dbt.string_literal(dbt.escape_single_quotes(partition_start)) }}::date,
                {{ dbt.string_literal(dbt.escape_single_quotes(partition_end)) }}::date - 1,
                interval '1 day'
            )::date
        {%- endif %}
        ) as days
        -- Days before the retention horizon are final (macros/retention.sql).
        where day >= {{ retention_horizon() }}::date
        order by day
    {%- endset -%}
    {{ return(run_query(query).columns[0].values() | map('string') | list) }}
{% endmacro %}

{#- A predicate keeping `column` (a timestamptz) inside the given UTC days, as ranges an index
    can use; `starts`/`ends` shift each range from the day's midnight (default: the whole day).
    No days (a full build) keeps everything. -#}
{% macro in_days(column, days, starts="interval '0'", ends="interval '1 day'") -%}
    {%- if days | length == 0 -%}
        true
    {%- else -%}
        ({% for day in days -%}
            ({{ column }} >= '{{ day }} 00:00+00'::timestamptz + {{ starts }}
             and {{ column }} < '{{ day }} 00:00+00'::timestamptz + {{ ends }})
            {%- if not loop.last %} or {% endif %}
        {%- endfor %})
    {%- endif -%}
{%- endmacro %}

{#- delete+insert replaces the days a run produced rows for. A day whose raw rows were all
    deleted (a rewritten drop file, a purge) produces none: this post-hook removes such days,
    checking every day rows were ever deleted from against every source. -#}
{% macro delete_vanished_days() %}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where call_date in (
        select changed.day
        from (
            select distinct day from {{ source('raw_ops', 'changed_days') }}
        ) as changed
        where changed.day >= {{ retention_horizon() }}::date
            and not exists (
            {%- for relation, time_column in raw_event_sources() %}
            select 1 from {{ relation }}
            where {{ time_column }} >= changed.day::timestamptz
                and {{ time_column }} < changed.day::timestamptz + interval '1 day'
            {%- if not loop.last %} union all{% endif %}
            {%- endfor %}
        )
    )
    {%- else -%}
    select 1
    {%- endif -%}
{% endmacro %}

{#- A row of an incremental model edited in place, by hand or by a tool, gets a new
    `rebuilt_at`: the checks validate the rows rebuilt since they last passed
    (expectations/windows.py), and an edit is a rebuild they must see. dbt itself only deletes
    and inserts. -#}
{% macro stamp_edited_rows() %}
    {%- if execute -%}
    create or replace function {{ this.schema }}.stamp_rebuilt_at() returns trigger
    language plpgsql as $fn$
    begin
        new.rebuilt_at := now();
        return new;
    end;
    $fn$;
    do $do$
    begin
        if not exists (
            select 1 from pg_trigger
            where tgrelid = '{{ this }}'::regclass and tgname = 'stamp_edited_rows'
        ) then
            create trigger stamp_edited_rows before update on {{ this }}
                for each row execute function {{ this.schema }}.stamp_rebuilt_at();
        end if;
    end;
    $do$
    {%- else -%}
    select 1
    {%- endif -%}
{% endmacro %}
