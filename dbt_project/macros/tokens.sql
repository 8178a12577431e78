{#- prompt + completion when either is known, else what the source reported as the total: the
    collector's cost worker rewrites prompt/completion tokens but never total_tokens. -#}
{% macro derived_total_tokens(prompt, completion, reported='null') -%}
    case
        when {{ prompt }} is null and {{ completion }} is null then {{ reported }}
        else coalesce({{ prompt }}, 0) + coalesce({{ completion }}, 0)
    end
{%- endmacro %}
