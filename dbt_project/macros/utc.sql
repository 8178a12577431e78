{#- The UTC wall-clock time of a timestamptz, whatever the session's TimeZone. -#}
{% macro utc(column) -%}
    ({{ column }} at time zone 'UTC')
{%- endmacro %}
