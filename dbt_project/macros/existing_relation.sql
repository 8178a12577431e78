{#- The model's own table as it stands, or none (first build; unit tests have no `this`). -#}
{% macro existing_relation() -%}
    {{ return(load_relation(this) if execute and this is not none else none) }}
{%- endmacro %}
