{% test not_null_combination(model, combination_of_columns) %}

select * from {{ model }}
where
    {%- for column in combination_of_columns %}
    {{ column }} is null{% if not loop.last %} or{% endif %}
    {%- endfor %}

{% endtest %}
