{#- The collector double-encodes jsonb written by old clients: a JSON string holding the JSON.
    A string that jsonb cannot hold (not JSON, or JSON with a \u0000) stays what it is.
    (`pg_input_is_valid` needs PostgreSQL 16+.) -#}
{% macro unwrap_jsonb(column) -%}
    case
        when jsonb_typeof({{ column }}) = 'string'
            and pg_input_is_valid({{ column }} #>> '{}', 'jsonb')
            then ({{ column }} #>> '{}')::jsonb
        else {{ column }}
    end
{%- endmacro %}

{#- A count read from a JSON object: the number at `key` when it is one and fits an integer,
    else null. The loaders' contracts refuse anything else; this keeps a model from failing on
    a value written around them. -#}
{% macro json_count(column, key) -%}
    case
        when jsonb_typeof({{ column }} -> '{{ key }}') = 'number'
            and ({{ column }} ->> '{{ key }}')::numeric between 0 and 2147483647
            then round(({{ column }} ->> '{{ key }}')::numeric)::integer
    end
{%- endmacro %}

{#- A retried batch repeats an event under a new id; these fields identify the event itself.
    A row's text quotes each field, so no value can pose as two (`a|b` and `a`, `b`). -#}
{% macro collector_event_fingerprint() -%}
    {%- set fields = [
        'host_id', 'session_id', 'agent_name', 'hook_name', 'tool_name', 'decision',
        'extract(epoch from created_at)', 'latency_ms', 'prompt_tokens', 'completion_tokens',
        'total_tokens'
    ] -%}
    md5(row(
        {%- for field in fields %}
        {{ field }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    )::text)
{%- endmacro %}

{#- The first copy of each event of `relation` (by `tiebreak`), with how many copies there were.
    Copies share created_at (it is in the fingerprint); leading with it lets a filter on
    occurred_at reach the raw table's index through the view, so incremental models read only
    the days they rebuild. -#}
{% macro first_copies(relation, tiebreak) -%}
    select distinct on (created_at, event_fingerprint)
        *,
        count(*) over (partition by created_at, event_fingerprint) as copy_count
    from (
        select
            *,
            {{ collector_event_fingerprint() }} as event_fingerprint
        from {{ relation }}
    ) as fingerprinted
    order by created_at, event_fingerprint, {{ tiebreak }}
{%- endmacro %}
