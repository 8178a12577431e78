{#- The first of seed 003's error classes whose pattern matches an error call's text; `other`
    when none does. Null for calls that are not errors. -#}
{% macro error_category(text_column, is_error="decision = 'ERROR'") -%}
    case
        when not ({{ is_error }}) then null
    {%- for name, pattern in error_patterns().items() %}
        when {{ text_column }} ~* '{{ pattern }}' then '{{ name }}'
    {%- endfor %}
        else 'other'
    end
{%- endmacro %}
