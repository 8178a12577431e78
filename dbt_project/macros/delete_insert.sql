{#- dbt's delete+insert deletes `where key in (select distinct key from <new rows>)`. The new
    rows are a temp table without statistics, and the planner hashed them against every row of
    the target: a build that replaced one day of a table with a year of days read the whole
    year (3.5 s for int_tool_sequences_daily at 5 M events). With a single key the keys are
    collected first, so the delete is an index scan of the target's key and reaches only the
    partitions (months) that hold them. Several keys keep dbt's statement. -#}
{% macro postgres__get_delete_insert_merge_sql(target, source, unique_key, dest_columns, incremental_predicates) -%}
    {%- set keys = [unique_key] if unique_key is string else unique_key -%}
    {%- if keys and keys | length == 1 -%}
    {%- set dest_cols_csv = get_quoted_csv(dest_columns | map(attribute="name")) -%}
    delete from {{ target }} as DBT_INTERNAL_DEST
    where {{ keys[0] }} = any(array(
        select distinct {{ keys[0] }}
        from {{ source }} as DBT_INTERNAL_SOURCE
    ))
    {%- for predicate in incremental_predicates or [] %}
        and {{ predicate }}
    {%- endfor %};

    insert into {{ target }} ({{ dest_cols_csv }})
    (
        select {{ dest_cols_csv }}
        from {{ source }}
    )
    {%- else -%}
    {{ default__get_delete_insert_merge_sql(target, source, unique_key, dest_columns, incremental_predicates) }}
    {%- endif -%}
{%- endmacro %}
