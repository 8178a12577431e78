{#- Seed 003's PatternAnalyzer: error classes and behaviour patterns, as case-insensitive
    regular expressions over an event's reason text. -#}
{% macro error_patterns() %}
    {{ return({
        'rate_limit': 'rate.?limit|429|too.?many.?requests',
        'timeout': 'timeout|timed.?out|deadline',
        'auth_failure': 'auth|unauthorized|403|401',
        'network': 'network|connection|refused|unreachable',
        'validation': 'validation|invalid|schema',
        'tool_error': 'tool.?error|tool.?failed',
    }) }}
{% endmacro %}

{% macro behavior_patterns() %}
    {{ return({
        'retry': 'retry|retrying|attempt',
        'fallback': 'fallback|alternative|instead',
        'clarification': 'clarify|unclear|ambiguous',
        'exploration': 'searching|looking|finding',
    }) }}
{% endmacro %}

{#- jsonb {name: number of calls whose `text_column` matches} for a dict of patterns. -#}
{% macro pattern_counts(patterns, text_column, condition='true') -%}
    jsonb_build_object(
    {%- for name, pattern in patterns.items() %}
        '{{ name }}', count(*) filter (where ({{ condition }}) and {{ text_column }} ~* '{{ pattern }}'){% if not loop.last %},{% endif %}
    {%- endfor %}
    )
{%- endmacro %}
