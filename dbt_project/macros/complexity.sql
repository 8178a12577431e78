{#- Points for passing each threshold in turn (seed 003): above the first 1, the second 2 ... -#}
{% macro threshold_points(expression, thresholds) -%}
    case
    {%- for threshold in thresholds | reverse %}
        when {{ expression }} > {{ threshold }} then {{ thresholds | length - loop.index0 }}
    {%- endfor %}
        else 0
    end
{%- endmacro %}

{#- The seed's five complexity classes from a score. -#}
{% macro complexity_class(score) -%}
    case
        when {{ score }} >= 8 then 'very_high'
        when {{ score }} >= 6 then 'high'
        when {{ score }} >= 4 then 'medium'
        when {{ score }} >= 2 then 'low'
        else 'very_low'
    end
{%- endmacro %}
