{#- prompt + completion when either is known, else what the source reported as the total: the
    collector's cost worker rewrites prompt/completion tokens but never total_tokens. -#}
{% macro derived_total_tokens(prompt, completion, reported='null') -%}
    case
        when {{ prompt }} is null and {{ completion }} is null then {{ reported }}
        else coalesce({{ prompt }}, 0) + coalesce({{ completion }}, 0)
    end
{%- endmacro %}

{#- LLM calls whose cost is unknown (no reported cost, no price): every mart with a cost column
    carries this count next to it, because a sum of costs skips them. -#}
{% macro unpriced_llm_calls(is_llm_call='is_llm_call', cost='cost_usd') -%}
    count(*) filter (where {{ is_llm_call }} and {{ cost }} is null)
{%- endmacro %}

{#- `sum(<type>) as <type>,` for every token type. -#}
{% macro sum_token_types() -%}
    {%- for column in token_types() %}
        sum({{ column }}) as {{ column }},
    {%- endfor %}
{%- endmacro %}

{#- `sum(<type>)::bigint as <type>,` for every token type, over partial sums (a sum of bigints
    is numeric; the marts keep the type a sum of the calls' integers has). -#}
{% macro resum_token_types() -%}
    {%- for column in token_types() %}
        sum({{ column }})::bigint as {{ column }},
    {%- endfor %}
{%- endmacro %}
