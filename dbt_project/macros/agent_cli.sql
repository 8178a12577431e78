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
    int_agent_cli_usage_priced): the days of the agent CLI records loaded since its build
    watermark, the days raw.changed_days logged for them (rows deleted or updated, and the rows
    a later file changes the counting of: a fork's parent, a Copilot shutdown; see
    ingestion/agent_cli/loader.py), and the run's partition window; with `repriced`, also the
    days of its rows whose model's prices changed since its last build (the copy its post-hook
    `remember_prices` keeps). None (every record) on a full build, on the first build of a table
    from before the model was incremental, and with `repriced` while no copy of the prices is
    kept. -#}
{% macro agent_cli_changed_days(repriced=false) %}
    {%- do take_build_horizon() -%}
    {%- if not (execute and this is not none and is_incremental())
        or built_without_column('rebuilt_at') -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set seen = prices_seen_relation() -%}
    {%- if repriced and not prices_seen_kept(seen) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set since = build_watermark() -%}
    {%- set window = partition_window_days() -%}
    {%- set query -%}
        select distinct day from (
            select (occurred_at at time zone 'UTC')::date as day
            from {{ source('agent_cli', 'agent_cli_usage') }}
            where _loaded_at >= {{ since }}
            union all
            select day from {{ source('raw_ops', 'changed_days') }}
            where changed_at >= {{ since }} and table_name = 'agent_cli_usage'
        {%- if repriced %}
            union all
            select distinct (occurred_at at time zone 'UTC')::date from {{ this }}
            where model_name in ({{ repriced_model_names(seen) }})
        {%- endif %}
        {%- if window %}
            union all
            {{ window }}
        {%- endif %}
        ) as days
        order by day
    {%- endset -%}
    {%- set days = run_query(query).columns[0].values() | map('string') | list -%}
    {{ return(remember_build_days(days)) }}
{% endmacro %}
