{#- The collector double-encodes jsonb written by old clients: a JSON string holding the JSON.
    A string that is not JSON stays what it is. (`is json` needs PostgreSQL 16+.) -#}
{% macro unwrap_jsonb(column) -%}
    case
        when jsonb_typeof({{ column }}) = 'string' and ({{ column }} #>> '{}') is json
            then ({{ column }} #>> '{}')::jsonb
        else {{ column }}
    end
{%- endmacro %}

{#- A retried batch repeats an event under a new id; these fields identify the event itself.
    Nulls become '' so that every field keeps its position. -#}
{% macro collector_event_fingerprint() -%}
    {%- set fields = [
        'host_id', 'session_id', 'agent_name', 'hook_name', 'tool_name', 'decision',
        'extract(epoch from created_at)', 'latency_ms', 'prompt_tokens', 'completion_tokens',
        'total_tokens'
    ] -%}
    md5(
        {%- for field in fields %}
        coalesce(({{ field }})::text, ''){% if not loop.last %} || '|' ||{% endif %}
        {%- endfor %}
    )
{%- endmacro %}
