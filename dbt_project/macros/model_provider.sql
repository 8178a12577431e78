{#- The provider behind a model name: `vendor/model` names say so; bare names by their family. -#}
{% macro model_provider(model) -%}
    case
        when {{ model }} is null then null
        when {{ model }} like '%/%' then lower(split_part({{ model }}, '/', 1))
        when {{ model }} ~* '^claude' then 'anthropic'
        when {{ model }} ~* '^(gpt|o[0-9]|text-|davinci)' then 'openai'
        when {{ model }} ~* '^gemini' then 'google'
        when {{ model }} ~* '^(mistral|mixtral|codestral)' then 'mistral'
        else 'unknown'
    end
{%- endmacro %}
