{#- The UTC wall-clock time of a timestamptz, whatever the session's TimeZone. -#}
{% macro utc(column) -%}
    ({{ column }} at time zone 'UTC')
{%- endmacro %}

{#- The instant a UTC day (a date expression) starts, as a timestamptz. -#}
{% macro utc_day_start(day) -%}
    (({{ day }})::timestamp at time zone 'UTC')
{%- endmacro %}
