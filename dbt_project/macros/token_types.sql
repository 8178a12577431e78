{#- The token types every usage mart reports, in their column order. -#}
{% macro token_types() %}
    {{ return(['prompt_tokens', 'completion_tokens', 'cached_tokens', 'reasoning_tokens',
               'cache_creation_5m_tokens', 'cache_creation_1h_tokens', 'total_tokens']) }}
{% endmacro %}
