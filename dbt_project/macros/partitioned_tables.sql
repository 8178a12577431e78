{#- Tables partitioned by UTC month of a date column (the calls fact, by `call_date`): a
    day's rebuild deletes and inserts in its month's partition and indexes alone, and a read of
    some days prunes to their months. The months are made by raw.add_month_partitions
    (ingestion/core/sql/raw_schema.sql), as for the raw tables. A model asks for it with
    `meta={'partition_by_month': '<date column>'}` and the post-hooks below. -#}

{#- PostgreSQL cannot partition a `create table ... as`. So a first build or a full refresh of
    such a model writes its rows to a table of their own, makes the partitioned table with the
    months they fall in, and moves the rows in: they are written twice, on those builds only. -#}
{% macro postgres__get_create_table_as_sql(temporary, relation, sql) -%}
    {%- set month_column = (config.get('meta') or {}).get('partition_by_month') -%}
    {%- if temporary or not month_column -%}
        {{ return(default__get_create_table_as_sql(temporary, relation, sql)) }}
    {%- endif -%}
    {%- set rows = relation.incorporate(path={'identifier': relation.identifier ~ '__rows'}) -%}
    drop table if exists {{ rows }};
    create table {{ rows }} as (
        {{ sql }}
    );
    create table {{ relation }} (like {{ rows }}) partition by range ({{ month_column }});
    select raw.add_month_partitions(
        '{{ relation }}'::regclass, '{{ month_column }}', array_agg(distinct {{ month_column }})
    )
    from {{ rows }};
    insert into {{ relation }} select * from {{ rows }};
    drop table {{ rows }}
{%- endmacro %}

{#- A post-hook, first of the model's: a table an older release built unpartitioned becomes
    partitioned in place, keeping every row (days before the retention horizon too) and its
    indexes; then the rows an incremental build put in the default partition (a month without
    a partition yet) move to their month's new partition. -#}
{% macro partition_by_month(month_column) %}
    do $$
    declare
        index_definitions text[];
        old_index regclass;
        definition text;
    begin
        if (select relkind from pg_class where oid = '{{ this }}'::regclass) = 'r' then
            select coalesce(array_agg(pg_get_indexdef(indexrelid)), '{}')
            into index_definitions
            from pg_index where indrelid = '{{ this }}'::regclass;
            for old_index in
                select indexrelid::regclass from pg_index where indrelid = '{{ this }}'::regclass
            loop
                execute format('drop index %s', old_index);
            end loop;
            alter table {{ this }} rename to {{ this.identifier }}__unpartitioned;
            create table {{ this }}
                (like {{ this.schema }}.{{ this.identifier }}__unpartitioned including defaults)
                partition by range ({{ month_column }});
            perform raw.add_month_partitions(
                '{{ this }}'::regclass, '{{ month_column }}', array_agg(distinct {{ month_column }})
            )
            from {{ this.schema }}.{{ this.identifier }}__unpartitioned;
            insert into {{ this }}
            select * from {{ this.schema }}.{{ this.identifier }}__unpartitioned;
            drop table {{ this.schema }}.{{ this.identifier }}__unpartitioned;
            foreach definition in array index_definitions loop
                execute definition;
            end loop;
        end if;
        perform raw.add_month_partitions('{{ this }}'::regclass, '{{ month_column }}');
    end
    $$
{% endmacro %}
