{#- Layers live in schemas named for the layer (staging, intermediate, marts), not
    <target>_<layer>: analysts and grants address them by those names. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
