{#- Views run with the reader's rights (PostgreSQL 15+), so a view can never show a reader what
    the tables under it would not: an analyst reading marts.alert_inbox is subject to the
    alerts' row-level security and needs no rights on the tables the view's owner has. -#}
{% macro postgres__create_view_as(relation, sql) -%}
  {%- set sql_header = config.get('sql_header', none) -%}
  {{ sql_header if sql_header is not none }}
  create view {{ relation.render() }} with (security_invoker = true)
  as (
    {{ sql }}
  );
{%- endmacro %}

{#- Every mart table gets the warehouse's row-level security policies again after each build
    (a rebuilt table starts without them). `atw roles` creates ops.apply_row_security; before
    that there are no roles to write policies for, and this does nothing. -#}
{% macro mart_row_security() %}
    {%- if model.config.materialized in ('table', 'incremental') -%}
    do $$
    begin
        if to_regprocedure('ops.apply_row_security(regclass)') is not null then
            perform ops.apply_row_security('{{ this }}'::regclass);
        end if;
    end
    $$
    {%- else -%}
    select 1
    {%- endif -%}
{% endmacro %}
