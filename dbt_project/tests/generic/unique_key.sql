{#- The key of an incremental model (with `rebuilt_at`, indexed on the key) is unique. Where
    the step's tests passed before (ATW_DBT_TESTS_PASSED_FROM), the keys of the rows rebuilt
    since are each looked up in the whole table: a duplicate needs a row written since, so this
    sees every one, at the cost of the rows written, not of history (dbt's `unique` grouped
    every row: 12 s of a nightly at 5 M calls). Every row otherwise (a first run, the weekly
    full validation). -#}
{% test unique_key(model, column_name) %}
{%- set since = tests_passed_from(model) %}
{%- if since is none %}

select
    {{ column_name }} as unique_field,
    count(*) as n_records
from {{ model }}
where {{ column_name }} is not null
group by {{ column_name }}
having count(*) > 1

{%- else %}

select
    rebuilt.key as unique_field,
    found.n_records
from (
    select distinct {{ column_name }} as key
    from {{ model }}
    where rebuilt_at >= {{ since }} and {{ column_name }} is not null
) as rebuilt
cross join lateral (
    select count(*) as n_records
    from {{ model }} as all_rows
    where all_rows.{{ column_name }} = rebuilt.key
    offset 0
) as found
where found.n_records > 1

{%- endif %}
{% endtest %}
