{#- The token and cost sums of agent CLI usage records, as ccusage's reports show them. -#}
{% macro agent_cli_usage_sums() -%}
        sum(input_tokens)::bigint as input_tokens,
        sum(output_tokens)::bigint as output_tokens,
        sum(cache_creation_tokens)::bigint as cache_creation_tokens,
        sum(cache_read_tokens)::bigint as cache_read_tokens,
        sum(reasoning_tokens)::bigint as reasoning_tokens,
        sum(extra_output_tokens)::bigint as extra_output_tokens,
        sum(total_tokens)::bigint as total_tokens,
        sum(request_count)::bigint as request_count,
        count(*) as usage_records,
        sum(cost_usd) as cost_usd,
        sum(logged_cost_usd) as logged_cost_usd,
        count(*) filter (where not is_priced) as unpriced_records
{%- endmacro %}

{#- The UTC days an agent CLI table built by day rebuilds (stg_agent_cli__usage,
    int_agent_cli_usage_priced), as a list kept for the post-hook
    `delete_rows_left_on_build_days`:
    - the days of the agent CLI records loaded since its build watermark, the days
      raw.changed_days logged for them (rows updated or deleted), and the run's partition
      window;
    - the days of the rows whose counting a record of those days decides, as raw holds them
      now and as this table holds them (a deleted record is only there): a Codex fork's, whose
      parent thread is on such a day, a Copilot OTel span's, whose session's shutdown is, an
      OpenCode message's other copy (the database's and a file's need not share a time);
    - with `staged`, the days the staging table rebuilt since this table's last build took its
      horizon (a full refresh of it, a rule changed), and with `repriced`, the days of this
      table's rows whose model's prices changed since its last build (the copy
      `remember_prices` keeps).
    None (read every record) on a full build and on the first build of a table from before the
    model was incremental (its pre-hook empties it). While no copy of the prices is kept, every
    day of raw and of the table. -#}
{% macro agent_cli_changed_days(staged=none, repriced=false) %}
    {%- do take_build_horizon() -%}
    {%- if not (execute and this is not none and is_incremental())
        or built_without_column('rebuilt_at') -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set raw_usage = source('agent_cli', 'agent_cli_usage') -%}
    {%- set seen = prices_seen_relation() -%}
    {%- if repriced and not prices_seen_kept(seen) -%}
        {%- set query -%}
            select distinct (occurred_at at time zone 'UTC')::date from {{ raw_usage }}
            union
            select distinct (occurred_at at time zone 'UTC')::date from {{ this }}
            order by 1
        {%- endset -%}
        {{ return(remember_build_days(run_query(query).columns[0].values() | map('string') | list)) }}
    {%- endif -%}
    {%- set since = build_watermark() -%}
    {%- set window = partition_window_days() -%}
    {%- set query -%}
        with changed (day) as (
            select (occurred_at at time zone 'UTC')::date
            from {{ raw_usage }}
            where _loaded_at >= {{ since }}
            union
            select day from {{ source('raw_ops', 'changed_days') }}
            where changed_at >= {{ since }} and table_name = 'agent_cli_usage'
        {%- if staged %}
            union
            select (occurred_at at time zone 'UTC')::date from {{ staged }}
            where rebuilt_at >= {{ own_build_horizon() }}
        {%- endif %}
        {%- if repriced %}
            union
            select (occurred_at at time zone 'UTC')::date from {{ this }}
            where model_name in ({{ repriced_model_names(seen) }})
        {%- endif %}
        {%- if window %}
            union
            {{ window }}
        {%- endif %}
        ),

        -- The records of those days, as raw holds them and as this table does (by time
        -- ranges, which their indexes on occurred_at answer).
        on_changed as (
            {%- for relation in [raw_usage, this] %}
            select records.agent_cli, records.record_kind, records.thread_id,
                records.session_id, records.message_id
            from changed
            inner join {{ relation }} as records
                on records.occurred_at >= changed.day::timestamp at time zone 'UTC'
                and records.occurred_at < (changed.day + 1)::timestamp at time zone 'UTC'
            {%- if not loop.last %}
            union
            {%- endif %}
            {%- endfor %}
        )

        select day from changed
        {%- for relation in [raw_usage, this] %}
        union
        select (occurred_at at time zone 'UTC')::date from {{ relation }}
        where agent_cli = 'codex' and forked_from_id in (
            select thread_id from on_changed where agent_cli = 'codex'
        )
        union
        select (occurred_at at time zone 'UTC')::date from {{ relation }}
        where agent_cli = 'copilot_cli' and record_kind like 'otel%' and session_id in (
            select session_id from on_changed
            where agent_cli = 'copilot_cli' and record_kind = 'shutdown'
        )
        union
        select (occurred_at at time zone 'UTC')::date from {{ relation }}
        where agent_cli = 'opencode' and message_id in (
            select message_id from on_changed where agent_cli = 'opencode'
        )
        {%- endfor %}
        order by 1
    {%- endset -%}
    {%- set days = run_query(query).columns[0].values() | map('string') | list -%}
    {{ return(remember_build_days(days)) }}
{% endmacro %}
