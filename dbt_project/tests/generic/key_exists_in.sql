{#- dbt's `relationships` for an incremental model built by day from an incremental parent
    (both with `rebuilt_at` and `day_column`, the parent indexed on `field`): every non-null
    `column_name` is a `field` of `to`. Where the step's tests passed before
    (ATW_DBT_TESTS_PASSED_FROM), only the rows that can have changed are read: those rebuilt
    since, and those on the days the parent rebuilt or dropped since (a parent row gone leaves
    its day rebuilt in the parent, or logged as dropped, `delete_vanished_days`); each looks its
    key up in the parent. Every row otherwise, as dbt's test does. -#}
{% test key_exists_in(model, column_name, to, field, day_column='call_date') %}
{%- set since = tests_passed_from(model) %}

select child.{{ column_name }}
from {{ model }} as child
where child.{{ column_name }} is not null
    {%- if since is not none %}
    and (
        child.rebuilt_at >= {{ since }}
        or child.{{ day_column }} = any(array(
            select distinct parent_days.{{ day_column }}
            from {{ to }} as parent_days
            where parent_days.rebuilt_at >= {{ since }}
            {%- set dropped = dropped_call_days_relation(to) %}
            {%- if load_relation(dropped) is not none %}
            union
            select day from {{ dropped }} where dropped_at >= {{ since }}
            {%- endif %}
        ))
    )
    {%- endif %}
    {%- if since is not none %}
    and (
        select 1 from {{ to }} as parent
        where parent.{{ field }} = child.{{ column_name }}
        limit 1
    ) is null
    {%- else %}
    and not exists (
        select 1 from {{ to }} as parent
        where parent.{{ field }} = child.{{ column_name }}
    )
    {%- endif %}

{% endtest %}
