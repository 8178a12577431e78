{#- An incremental model keeps its table from one version to the next, so a column the project
    renamed must be renamed in that table before the run compares the table with the model
    (`on_schema_change='fail'` would stop it) or carries its old rows over by name. A pre-hook:
    the first run after an upgrade renames the column in place, keeping every row; later runs,
    and a first build, find no such column and do nothing. -#}
{% macro rename_column_if_present(old_name, new_name) %}
    do $$
    begin
        if exists (
            select 1
            from information_schema.columns
            where
                table_schema = '{{ this.schema }}'
                and table_name = '{{ this.identifier }}'
                and column_name = '{{ old_name }}'
        ) then
            alter table {{ this }} rename column {{ old_name }} to {{ new_name }};
        end if;
    end
    $$
{% endmacro %}

{#- Likewise a column a model gained when it became incremental (`rebuilt_at`, say): the first
    run after the upgrade adds it to the table, with `definition` (type and default) filling the
    rows already there, and `fill` (statements) run once after it is added. `relation`: another
    table than the model's (the build watermarks, from on-run-start). -#}
{% macro add_column_if_absent(name, definition, fill='', relation=none) %}
    {%- set relation = relation or this %}
    do $$
    begin
        if to_regclass('{{ relation }}') is not null and not exists (
            select 1
            from information_schema.columns
            where
                table_schema = '{{ relation.schema }}'
                and table_name = '{{ relation.identifier }}'
                and column_name = '{{ name }}'
        ) then
            alter table {{ relation }} add column {{ name }} {{ definition }};
            {{ fill }}
        end if;
    end
    $$
{% endmacro %}

{#- `rebuilt_at`, for a model built by day (macros/incremental_days.sql): the rows already there
    get a moment before this run's, so that its post-hook `delete_rows_left_on_build_days` tells
    them from the rows this run writes. A stable default: no rewrite of the table. -#}
{% macro add_rebuilt_at_if_absent() %}
    {{ add_column_if_absent(
        'rebuilt_at',
        "timestamptz not null default (now() - interval '1 millisecond')",
        'alter table ' ~ this ~ ' alter column rebuilt_at drop default;') }}
{% endmacro %}

{#- And an index it gained (a post-hook): dbt creates a model's configured indexes only with its
    table, which an incremental model keeps across upgrades. Found by its columns, and left to
    PostgreSQL to name: a full refresh keeps the old table, names included, until it commits. -#}
{% macro index_if_absent(columns) %}
    do $$
    begin
        if not exists (
            select 1
            from pg_index as indexes
            where indexes.indrelid = '{{ this }}'::regclass
                and array(
                    select attributes.attname::text
                    from unnest(indexes.indkey) with ordinality as keys (attnum, position)
                    inner join pg_attribute as attributes
                        on attributes.attrelid = indexes.indrelid
                            and attributes.attnum = keys.attnum
                    order by keys.position
                ) = array[{% for column in columns %}'{{ column }}'{{ ', ' if not loop.last }}{% endfor %}]
        ) then
            create index on {{ this }} ({{ columns | join(', ') }});
        end if;
    end
    $$
{% endmacro %}

{#- int_tool_sequences_daily's `is_session_first_day` (a pre-hook): a table built before it
    existed gets it, computed from its own rows, which hold every day of each session. -#}
{% macro add_first_session_day_if_absent() %}
    {%- set fill -%}
            {#- By row address: a join on the key would need `is not distinct from` for the
                null session, which no hash join takes. -#}
            update {{ this }} as daily
            set is_session_first_day = firsts.is_first
            from (
                select
                    ctid as row_address,
                    call_date = min(call_date) over (
                        partition by source_system, session_id, tools, sequence_length
                    ) as is_first
                from {{ this }}
            ) as firsts
            where daily.ctid = firsts.row_address;
            alter table {{ this }} alter column is_session_first_day set not null;
    {%- endset -%}
    {{ add_column_if_absent('is_session_first_day', 'boolean', fill) }}
{% endmacro %}

{#- Whether this incremental build finds a table built before the model gained the group
    column `name` (`source_system`, say). Such a table's rows cannot be split after the fact:
    the model rebuilds every day of it from its fact, once, after a pre-hook
    `add_column_if_absent` has given it the column (so `on_schema_change` passes). Read at
    compile time, before that pre-hook runs. -#}
{% macro built_without_column(name) %}
    {%- if not (execute and this is not none and is_incremental()) -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set built = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
    {{ return(name not in built) }}
{% endmacro %}
