{#- Cost of `tokens` at `base` USD per million, the part above `threshold` at `above` when the
    model has a long-context tier. -#}
{% macro tiered_cost(tokens, base, above, threshold) -%}
    case
        when {{ threshold }} is not null and {{ above }} is not null and {{ tokens }} > {{ threshold }}
            then ({{ threshold }} * {{ base }} + ({{ tokens }} - {{ threshold }}) * {{ above }}) / 1e6
        else {{ tokens }} * {{ base }} / 1e6
    end
{%- endmacro %}
