{#- The dbt var `report_timezone`, checked before it reaches any SQL: the shape of an IANA name,
    then the server's own list (pg_timezone_names). Anything else stops the build with what to
    do; it is never pasted into a query. -#}
{% macro report_timezone() -%}
    {%- set timezone = var('report_timezone', 'UTC') | string -%}
    {%- if not modules.re.fullmatch('[A-Za-z][A-Za-z0-9_+/-]{0,63}', timezone) -%}
        {{ exceptions.raise_compiler_error(
            "report_timezone must be an IANA time zone name such as UTC or Europe/Berlin") }}
    {%- endif -%}
    {%- if execute -%}
        {%- set known = run_query(
            "select 1 from pg_timezone_names where name = '" ~ timezone ~ "'") -%}
        {%- if known.rows | length == 0 -%}
            {{ exceptions.raise_compiler_error(
                "report_timezone is not a time zone this server knows (pg_timezone_names)") }}
        {%- endif -%}
    {%- endif -%}
    {{- return(timezone) -}}
{%- endmacro %}
