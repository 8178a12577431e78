{#- Every column of `relation` but those named in `excluded`, in the relation's order, as a
    select list: `select *` less some columns, as dbt_utils.star(except=...) gives (no dbt
    packages here). Read from the relation as built, when the model is compiled to run; `*`
    when dbt only parses or lints (no database), or compiles before the relation exists (docs
    of an empty warehouse), where the query could not run anyway. -#}
{% macro columns_except(relation, excluded) -%}
    {%- if not execute -%}
        {{ return('*') }}
    {%- endif -%}
    {%- set names = [] -%}
    {%- for column in adapter.get_columns_in_relation(relation) if column.name not in excluded -%}
        {%- do names.append(adapter.quote(column.name)) -%}
    {%- endfor -%}
    {{ return(names | join(',\n        ') if names else '*') }}
{%- endmacro %}
