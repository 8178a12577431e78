{#- A change log on an incremental model's table, for a roll-up that applies exact deltas
    instead of re-reading every row (fct_tool_sequences over int_tool_sequences_daily), or
    for a model that rebuilds only the keys or days that changed (int_sessions_scored,
    fct_sessions_daily).
    Statement triggers copy every row deleted (sign -1) and inserted (sign +1), by any
    statement: dbt's delete+insert, the post-hooks' deletes, an edit by hand. A table created
    or replaced by this build has rows the triggers never saw, and a truncate removes them
    unseen: each logs a `whole` marker instead, and the roll-up then rebuilds from the table.
    Each reader has its own log and consumes it by deleting what it reads, inside its own
    build's transaction: each change is applied once, and a failed build leaves it for the
    next. -#}

{#- The log of `model`'s changes that `consumer` (a model name; the model being built when
    omitted) reads: one per reader, as reading empties it. -#}
{% macro change_log_relation(model, consumer=none) -%}
    {%- set reader = consumer or this.identifier -%}
    {{ return(api.Relation.create(
        database=model.database, schema=model.schema,
        identifier=model.identifier ~ '__changes_for_' ~ reader)) }}
{%- endmacro %}

{#- Post-hook of the logged model: each reader's log, the function and the triggers, when
    absent. A new log, or new triggers, saw nothing of the rows already there: they start
    with the `whole` marker. `columns`: what the readers read. -#}
{% macro log_changes(columns, consumers) %}
    {%- if execute -%}
    {%- set listed = columns | join(', ') -%}
    {%- set function = this.schema ~ '.' ~ this.identifier ~ '__log_changes' -%}
    {%- for consumer in consumers %}
    {%- set log = change_log_relation(this, consumer) %}
    do $do$
    begin
        {#- A log whose columns are not the ones logged now (the list changed, or a full
            refresh changed a type) starts again, whole. #}
        if to_regclass('{{ log }}') is not null then
            if (
                select array_agg(attname || ' ' || format_type(atttypid, atttypmod) order by attname)
                from pg_attribute
                where attrelid = to_regclass('{{ log }}') and attnum > 0 and not attisdropped
                    and attname not in ('change_kind', 'sign')
            ) is distinct from (
                select array_agg(attname || ' ' || format_type(atttypid, atttypmod) order by attname)
                from pg_attribute
                where attrelid = to_regclass('{{ this }}') and attnum > 0 and not attisdropped
                    and attname = any(array[{% for column in columns %}'{{ column }}'{{ ', ' if not loop.last }}{% endfor %}])
            ) then
                drop table {{ log }};
            end if;
        end if;
        if to_regclass('{{ log }}') is null then
            create table {{ log }} as
            select null::text as change_kind, 0::smallint as sign, {{ listed }}
            from {{ this }}
            with no data;
            insert into {{ log }} (change_kind) values ('whole');
        end if;
    end;
    $do$;
    {%- endfor %}
    {#- Logs named without the database inside the function: a database cloned from a template
        keeps its functions' text. #}
    create or replace function {{ function }}() returns trigger
    language plpgsql as $fn$
    begin
        {%- for consumer in consumers %}
        {%- set logged = change_log_relation(this, consumer).include(database=false) %}
        if tg_op = 'TRUNCATE' then
            insert into {{ logged }} (change_kind) values ('whole');
        end if;
        if tg_op in ('DELETE', 'UPDATE') then
            insert into {{ logged }} (change_kind, sign, {{ listed }})
            select 'row', -1, {{ listed }} from old_rows;
        end if;
        if tg_op in ('INSERT', 'UPDATE') then
            insert into {{ logged }} (change_kind, sign, {{ listed }})
            select 'row', 1, {{ listed }} from new_rows;
        end if;
        {%- endfor %}
        return null;
    end;
    $fn$;
    do $do$
    begin
        if not exists (
            select from pg_trigger
            where tgrelid = '{{ this }}'::regclass and tgname = 'log_deleted_rows'
        ) then
            {%- for consumer in consumers %}
            insert into {{ change_log_relation(this, consumer) }} (change_kind) values ('whole');
            {%- endfor %}
            create trigger log_deleted_rows after delete on {{ this }}
                referencing old table as old_rows
                for each statement execute function {{ function }}();
            create trigger log_inserted_rows after insert on {{ this }}
                referencing new table as new_rows
                for each statement execute function {{ function }}();
            create trigger log_updated_rows after update on {{ this }}
                referencing old table as old_rows new table as new_rows
                for each statement execute function {{ function }}();
            create trigger log_truncate before truncate on {{ this }}
                for each statement execute function {{ function }}();
        end if;
    end;
    $do$
    {%- else -%}
    select 1
    {%- endif -%}
{% endmacro %}

{#- The temp table a roll-up's pre-hook fills with the changes it consumes. -#}
{% macro consumed_changes_table() -%}
    {{ this.identifier }}__consumed_changes
{%- endmacro %}

{#- Whether the roll-up can apply the log's changes: an incremental build, of a model whose
    changes are logged (a build before the model logged anything rebuilds from the table), and
    not `whole` (the roll-up's own reason to rebuild from the table: an upgrade). -#}
{% macro applies_changes(model, whole=false) %}
    {#- Unit tests have no `this` (is_incremental() reads it). #}
    {%- set applies = execute and this is not none and is_incremental() and not whole
        and change_log_exists(model) -%}
    {#- Kept in the connection's session (dbt compiles and builds a model on one connection)
        for the pre-hook: a log created between the compilation and the hook must not be read
        as if this build applied it. #}
    {%- if execute and this is not none -%}
        {%- do run_query("select set_config('" ~ _applies_setting() ~ "', '"
            ~ ('yes' if applies else 'no') ~ "', false)") -%}
    {%- endif -%}
    {{ return(applies) }}
{% endmacro %}

{%- macro _applies_setting() -%}
    atw.applies_changes_{{ local_md5(this | string) }}
{%- endmacro -%}

{#- For the hooks after consume_changes: whether the build reads the consumed changes. -#}
{% macro changes_applied(model) %}
    {{ return(execute and is_incremental() and change_log_exists(model)) }}
{% endmacro %}

{#- Asked of the database, not dbt's relation cache: the model's post-hook creates the log in
    the same run, after the cache was filled. -#}
{% macro change_log_exists(model) %}
    {%- set found = run_query(
        "select to_regclass('" ~ change_log_relation(model) ~ "') is not null") -%}
    {{ return(found.columns[0].values()[0]) }}
{% endmacro %}

{#- Pre-hook of the roll-up: waits for any build of `model` (which holds its lock until it
    commits), then moves the log's rows into a temp table; a full build empties the log, as it
    reads the table after. An incremental build that must rebuild from the table (no log yet,
    or a `whole` marker) deletes the roll-up's rows first, so keys gone from the table go. -#}
{% macro consume_changes(model) %}
    {%- if execute -%}
    {%- set log = change_log_relation(model) -%}
    select pg_advisory_xact_lock(hashtext('{{ model }}'));
    {#- And no writer outside dbt (which takes the lock above first) until this build commits:
        the log is read and the table after it, in two snapshots. #}
    lock table {{ model }} in share mode
    {%- if not change_log_exists(model) %}
    {%- if is_incremental() %};
    delete from {{ this }}
    {%- endif %}
    {%- elif not is_incremental() %};
    delete from {{ log }}
    {%- else %};
    create temporary table {{ consumed_changes_table() }} on commit drop as
    select * from {{ log }} with no data;
    with consumed as (
        delete from {{ log }} returning *
    )
    insert into {{ consumed_changes_table() }} select * from consumed;
    analyze {{ consumed_changes_table() }};
    {#- Rebuilt from the table: every row goes, the build inserts them all. So too when the
        build was compiled before the log existed (it reads the whole table). #}
    delete from {{ this }}
    where {{ changes_rebuild_whole() }}
        or current_setting('{{ _applies_setting() }}', true) is distinct from 'yes'
    {%- endif %}
    {%- else -%}
    select 1
    {%- endif -%}
{% endmacro %}

{#- Whether the consumed changes hold a `whole` marker: a one-time filter, so the plan skips
    what it gates. -#}
{% macro changes_rebuild_whole() -%}
    (select count(*) > 0 from {{ consumed_changes_table() }} where change_kind = 'whole')
{%- endmacro %}

{#- Pre-hook of int_sessions_scored, after consume_changes: the sessions changed go (the build
    inserts those still there). -#}
{% macro delete_changed_sessions() %}
    {%- if changes_applied(ref('int_sessions_aggregated')) -%}
    delete from {{ this }}
    where (source_system, session_id) in (
            select source_system, session_id from {{ consumed_changes_table() }}
            where change_kind = 'row'
        );
    {#- A session without an id (one per source) matches no `in`. #}
    delete from {{ this }}
    where session_id is null
        and source_system in (
            select source_system from {{ consumed_changes_table() }}
            where change_kind = 'row' and session_id is null
        )
    {%- else -%}
    select 1
    {%- endif -%}
{% endmacro %}

{#- fct_sessions_daily's UTC days of the sessions that changed: their start before and after. -#}
{% macro changed_session_days() -%}
    select distinct ({{ utc('started_at') }})::date as day
    from {{ consumed_changes_table() }}
    where change_kind = 'row'
{%- endmacro %}

{#- Pre-hook of fct_sessions_daily, after consume_changes: the days whose sessions changed go
    (the build inserts them again). -#}
{% macro delete_changed_session_days() %}
    {%- if changes_applied(ref('int_sessions_scored')) -%}
    delete from {{ this }}
    where session_date in ({{ changed_session_days() }})
    {%- else -%}
    select 1
    {%- endif -%}
{% endmacro %}

{#- Post-hook of int_tool_sequences_daily: a btree on the hash of `tools` and `last_seen_at`,
    through which fct_tool_sequences reads an n-gram's rows again (`hash_array(tools) = ... and
    tools = ...`), and its latest row alone (a backward scan, stopped at the first row): an
    n-gram as common as Read->Bash has 73,000 rows at 5 M events, 275 ms to read them all. A
    btree on the array itself took 836 MB at 5 M events (arrays are not deduplicated) and a
    hash index made inserts of common n-grams walk long overflow chains (a day's rebuild went
    from 2.5 s to 16 s); the hash alone took 77 MB, with `last_seen_at` 325 MB. The index on the
    hash alone, from before, goes. Unnamed, as index_if_absent's. -#}
{% macro tools_hash_index_if_absent() %}
    do $$
    declare
        old_index regclass;
    begin
        if not exists (
            select from pg_index
            where indrelid = '{{ this }}'::regclass
                and pg_get_indexdef(indexrelid) like '%(hash_array(tools), last_seen_at)%'
        ) then
            create index on {{ this }} (hash_array(tools), last_seen_at);
        end if;
        for old_index in
            select indexrelid::regclass from pg_index
            where indrelid = '{{ this }}'::regclass
                and pg_get_indexdef(indexrelid) like '%(hash_array(tools))'
        loop
            execute format('drop index %s', old_index);
        end loop;
    end
    $$
{% endmacro %}
