{#- Whole-UTC-day incremental builds. A run rebuilds the days that raw rows were loaded into,
    changed in or deleted from since the model's build watermark (below), the days the priced
    agent CLI table rebuilt since the model's own last horizon, plus the last
    `incremental_lookback_days` days. The watermark is the build, not the newest row it wrote:
    raw lines that never become calls (Claude Code user lines, say) must not look new forever. A Dagster partition run (or backfill) also passes its window
    (end exclusive) in ATW_DBT_PARTITION_START/ATW_DBT_PARTITION_END, a dbt command by hand in
    the vars `partition_start`/`partition_end`: those days are rebuilt as well. -#}

{#- The raw tables behind the calls fact, each with its event-time columns: a Claude Code
    response is dated by the message whose usage a line reports (`usage_at`), which for a
    progress line written after midnight is the day before the line's own. -#}
{% macro raw_event_sources() %}
    {{ return([
        (source('collector', 'collector_events'), 'created_at'),
        (source('landing', 'landed_collector_events'), 'created_at'),
        (source('landing', 'landed_metric_events'), 'occurred_at'),
        (source('claude_code', 'claude_code_lines'), 'occurred_at'),
        (source('claude_code', 'claude_code_lines'), 'usage_at'),
        (source('agent_cli', 'agent_cli_usage'), 'occurred_at'),
        (source('agent_cli', 'agent_cli_tool_events'), 'occurred_at'),
    ]) }}
{% endmacro %}

{#- The days to rebuild (ISO strings); none on a full build, and an empty list when nothing
    changed: read both with on_days_of, which keeps every row for none and none for []. -#}
{% macro rebuild_days() %}
    {%- do take_build_horizon() -%}
    {%- if not (execute and is_incremental()) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set since = build_watermark(
        "(select max(rebuilt_at) from " ~ this ~ ") - " ~ late_load_margin()) -%}
    {%- set window = partition_window_days() -%}
    {%- set query -%}
        select distinct day from (
        {%- for relation, time_column in raw_event_sources() %}
            select ({{ time_column }} at time zone 'UTC')::date as day
            from {{ relation }}
            where _loaded_at >= {{ since }} and {{ time_column }} is not null
            union all
        {%- endfor %}
            select day from {{ source('raw_ops', 'changed_days') }}
            where changed_at >= {{ since }}
            union all
            {#- Agent CLI records count again without a change on their day (a Codex fork
                whose parent rollout lost its rows): the priced table decides. #}
            select (occurred_at at time zone 'UTC')::date
            from {{ ref('int_agent_cli_usage_priced') }}
            where rebuilt_at >= {{ own_build_horizon() }}
            union all
            select generate_series(
                (now() at time zone 'UTC')::date - {{ var('incremental_lookback_days') }} + 1,
                (now() at time zone 'UTC')::date,
                interval '1 day'
            )::date
        {%- if window %}
            union all
            {{ window }}
        {%- endif %}
        {%- set seen = prices_seen_relation() %}
        {%- if prices_seen_kept(seen) %}
            union all
            {{ repriced_call_days(seen) }}
        {%- endif %}
        ) as days
        order by day
    {%- endset -%}
    {%- set changed = run_query(query).columns[0].values() | map('string') | list -%}
    {{ return(remember_build_days(days_sharing_calls_with(changed))) }}
{% endmacro %}

{#- The copy of reference.model_prices the fact's last build priced with (its post-hook
    `remember_prices` writes it). -#}
{% macro prices_seen_relation() -%}
    {{ return(api.Relation.create(
        database=this.database, schema=this.schema,
        identifier=this.identifier ~ '__prices_seen')) }}
{%- endmacro %}

{#- Whether the copy of the prices exists, in its current shape (a copy of model_prices'
    columns came before it, and its post-hook replaces that). -#}
{% macro prices_seen_kept(seen) %}
    {{ return('price' in relation_columns(seen)) }}
{% endmacro %}

{#- The model names whose prices changed since `seen` was kept: a price the catalogue
    resolved, an override or alias seed edited. Whole model names, both ways (a price gone
    counts), and each without `-fast` (Claude Code's fast mode is priced as `<model>-fast`).
    Rows compared as jsonb, so a column added to model_prices needs no change to the copy. -#}
{% macro repriced_model_names(seen) -%}
    {%- set current -%}
        select model_name, to_jsonb(prices) - 'model_name' as price
        from {{ ref('model_prices') }} as prices
    {%- endset -%}
    select distinct unnest(array[model_name, regexp_replace(model_name, '-fast$', '')]) as model_name
    from (
        ({{ current }} except select model_name, price from {{ seen }})
        union all
        (select model_name, price from {{ seen }} except {{ current }})
    ) as differing
{%- endmacro %}

{#- The days of the fact's calls whose model's prices changed since its last build. The fact
    is read only when some name changed. -#}
{% macro repriced_call_days(seen) -%}
    select distinct calls.call_date
    from {{ this }} as calls
    where calls.model_name in ({{ repriced_model_names(seen) }})
{%- endmacro %}

{#- Post-hook of the fact (inside its build's transaction, after its lock): keeps the prices
    this build priced with. Rows are replaced, never the table: a build beside it reads the
    copy while it chooses its days, and a dropped table would fail that read. -#}
{% macro remember_prices() %}
    {%- set seen = prices_seen_relation() -%}
    {%- if execute and load_relation(seen) is not none and not prices_seen_kept(seen) %}
    drop table {{ seen }};
    {%- endif %}
    create table if not exists {{ seen }} (model_name text, price jsonb);
    delete from {{ seen }};
    insert into {{ seen }} (model_name, price)
    select model_name, to_jsonb(prices) - 'model_name'
    from {{ ref('model_prices') }} as prices
{% endmacro %}

{#- A call's row can depend on rows of other days: whether its session id is derived depends on
    how many calls carry the id, whatever their days; a Claude Code response's day is that of
    its lines, and losing the lines of one day moves it to another; its tool calls take their
    results from later lines. So the days rebuilt are the
    changed days, plus the days of the calls that share a source session id or a response with
    the changed days' calls as they are staged now and as the fact holds them, less the days
    before the retention horizon, which are final (macros/retention.sql). Purged days take part
    in the first step: a session cut by the purge counts fewer calls after it. And a derived
    session runs across midnight: a call added to, changed on or gone from a day can start,
    join or split the session the next day's first calls belong to. So the day after a
    rebuilt day is rebuilt too when the fact has a derived call within the inactivity gap after
    its midnight and a call of the same host and directory came within the gap before it (in
    the fact, or staged now), and so on while the chain goes. -#}
{% macro days_sharing_calls_with(changed) %}
    {%- if changed | length == 0 -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set gap = "interval '" ~ var('session_inactivity_gap_minutes') ~ " minutes'" -%}
    {%- set query -%}
        with recursive touched_sessions as (
            select source_system, session_id from {{ ref('stg_collector__telemetry_events') }}
            where {{ in_days('occurred_at', changed) }}
            union
            select source_system, session_id from {{ ref('stg_landing__collector_events') }}
            where {{ in_days('occurred_at', changed) }}
            union
            select source_system, source_session_id from {{ this }}
            where {{ on_days('call_date', changed) }}
                and source_system in ('collector', 'landing_batch')
        ),

        touched_responses as (
            select call_id from {{ this }}
            where {{ on_days('call_date', changed) }} and source_system = 'claude_code'
            union
            select 'claude_code:' || response_key
            from {{ ref('int_claude_code_responses_priced') }}
            where {{ in_days('occurred_at', changed) }}
            union
            {#- A tool's result logged on a changed day completes a tool call of a response
                on another day (past midnight, or days later), in any log, as
                stg_claude_code__tool_calls pairs them: int_tool_calls rebuilds the days the
                fact rebuilds. Each result's tool use is looked up through the GIN index on
                `tool_uses` (raw_schema.sql; `offset 0` keeps it a lookup), keyed as
                stg_claude_code__tool_calls keys it. #}
            select 'claude_code:' || uses.message_id || ':' || coalesce(uses.request_id, '')
            from (
                select distinct tool_result.block ->> 'tool_use_id' as tool_use_id
                from {{ source('claude_code', 'claude_code_lines') }} as lines
                cross join lateral jsonb_array_elements(lines.tool_results)
                    as tool_result (block)
                where {{ in_days('lines.occurred_at', changed) }}
                    and jsonb_typeof(lines.tool_results) = 'array'
            ) as results
            cross join lateral (
                select message_id, request_id
                from {{ source('claude_code', 'claude_code_lines') }} as using_lines
                where using_lines.tool_uses @> jsonb_build_array(
                        jsonb_build_object('id', results.tool_use_id))
                    and jsonb_typeof(using_lines.tool_uses) = 'array'
                    and using_lines.message_id is not null
                    and not {{ in_days('using_lines.occurred_at', changed) }}
                offset 0
            ) as uses
            where results.tool_use_id is not null
        ),

        sharing as (
            select unnest({{ date_array(changed) }}) as day
            union all
            {#- An index lookup per touched session (as rows_of_sessions below): guessing the
                sessions at a fraction of the fact, the planner hashed the whole fact. #}
            select found.call_date
            from (
                select distinct source_system, session_id from touched_sessions
                where session_id is not null and source_system in ('collector', 'landing_batch')
            ) as wanted
            cross join lateral (
                select calls.call_date from {{ this }} as calls
                where calls.source_system = wanted.source_system
                    and calls.source_session_id = wanted.session_id
                offset 0
            ) as found
            union all
            {#- By key (its index), not `'claude_code:' || key in (...)`, which read every
                response. #}
            select ({{ utc('responses.occurred_at') }})::date
            from {{ ref('int_claude_code_responses_priced') }} as responses
            where responses.response_key = any(array(
                select substr(call_id, length('claude_code:') + 1) from touched_responses
                where starts_with(call_id, 'claude_code:')
            ))
            union all
            select calls.call_date from {{ this }} as calls
            where calls.source_system = 'claude_code'
                and calls.call_id in (select call_id from touched_responses)
        ),

        chained (day) as (
            select day from sharing
            where day >= {{ retention_horizon() }}::date
            union
            select (chained.day + 1)::date from chained
            where exists (
                select 1 from {{ this }} as after_midnight
                where after_midnight.is_session_derived
                    and after_midnight.occurred_at
                        >= (chained.day + 1)::timestamp at time zone 'UTC'
                    and after_midnight.occurred_at
                        <= (chained.day + 1)::timestamp at time zone 'UTC' + {{ gap }}
                    and exists (
                        select 1 from (
                            select source_system, host_id, working_dir, occurred_at
                            from {{ this }}
                            where is_session_derived
                            {%- for view in ['stg_collector__telemetry_events',
                                             'stg_landing__collector_events'] %}
                            union all
                            select source_system, host_id, working_dir, occurred_at
                            from {{ ref(view) }}
                            {%- endfor %}
                        ) as before_midnight
                        where before_midnight.occurred_at
                                >= (chained.day + 1)::timestamp at time zone 'UTC' - {{ gap }}
                            and before_midnight.occurred_at
                                < (chained.day + 1)::timestamp at time zone 'UTC'
                            and before_midnight.source_system = after_midnight.source_system
                            and before_midnight.host_id = after_midnight.host_id
                            and coalesce(before_midnight.working_dir, '')
                                = coalesce(after_midnight.working_dir, '')
                    )
            )
        )

        select day from chained
        order by day
    {%- endset -%}
    {{ return(run_query(query).columns[0].values() | map('string') | list) }}
{% endmacro %}

{#- A predicate keeping `column` (a timestamptz) inside the given UTC days, as ranges an index
    can use; `starts`/`ends` shift each range from the day's midnight (default: the whole day).
    No days (a full build) keeps everything. -#}
{% macro in_days(column, days, starts="interval '0'", ends="interval '1 day'") -%}
    {%- if days | length == 0 -%}
        true
    {%- else -%}
        ({% for day in days -%}
            ({{ column }} >= '{{ day }} 00:00+00'::timestamptz + {{ starts }}
             and {{ column }} < '{{ day }} 00:00+00'::timestamptz + {{ ends }})
            {%- if not loop.last %} or {% endif %}
        {%- endfor %})
    {%- endif -%}
{%- endmacro %}

{#- delete+insert replaces the days a run produced rows for. A day whose raw rows were all
    deleted (a rewritten drop file, a purge) produces none: this post-hook removes such days,
    checking every day rows were ever deleted from against every source. So does a day the
    build rebuilt that produced no row while raw still holds some (an agent CLI record that
    stopped counting: a Copilot span a later shutdown covers). It logs each day it
    removes in `dropped_call_days_relation()`, stamped with its build's transaction. The models
    after the fact read that log: raw.changed_days is stamped when raw lost the day, which can
    be after the fact's build started and before theirs, so that no build of theirs would see
    it as changed after the fact dropped it. -#}
{% macro delete_vanished_days() %}
    {%- set log = dropped_call_days_relation(this) -%}
    create table if not exists {{ log }} (
        day date not null,
        dropped_at timestamptz not null default now()
    );
    {%- if is_incremental() %}
    with dropped as (
        delete from {{ this }}
        {#- An array, not `in (select ...)`: its days are index lookups on call_date in each
            monthly partition, where a semi-join read every partition whole. (A computed
            array prunes no partition: `explain analyze` shows each one probed.) #}
        where call_date = any(array(
            select changed.day
            from (
                select distinct day from {{ source('raw_ops', 'changed_days') }}
            ) as changed
            where changed.day >= {{ retention_horizon() }}::date
                and not exists (
                {%- for relation, time_column in raw_event_sources() %}
                select 1 from {{ relation }}
                where {{ time_column }} >= changed.day::timestamptz
                    and {{ time_column }} < changed.day::timestamptz + interval '1 day'
                {%- if not loop.last %} union all{% endif %}
                {%- endfor %}
            )
        ))
        {#- The days chosen when the build compiled: a purge committed since must not make
            a day before its horizon look vanished. #}
        or call_date = any({{ build_days_array() }})
            and call_date >= {{ retention_horizon() }}::date and rebuilt_at < now()
        returning call_date
    )

    insert into {{ log }} (day)
    select distinct call_date from dropped
    {%- endif %}
{% endmacro %}

{#- The log of the days the calls fact `calls` dropped. -#}
{% macro dropped_call_days_relation(calls) %}
    {{ return(api.Relation.create(
        database=calls.database, schema=calls.schema,
        identifier=calls.identifier ~ '__dropped_days')) }}
{% endmacro %}

{#- A row of an incremental model edited in place, by hand or by a tool, gets a new
    `rebuilt_at`: the checks validate the rows rebuilt since they last passed
    (expectations/windows.py), and an edit is a rebuild they must see. dbt itself only deletes
    and inserts. -#}
{% macro stamp_edited_rows() %}
    {%- if execute -%}
    create or replace function {{ this.schema }}.stamp_rebuilt_at() returns trigger
    language plpgsql as $fn$
    begin
        new.rebuilt_at := now();
        return new;
    end;
    $fn$;
    do $do$
    begin
        if not exists (
            select 1 from pg_trigger
            where tgrelid = '{{ this }}'::regclass and tgname = 'stamp_edited_rows'
        ) then
            create trigger stamp_edited_rows before update on {{ this }}
                for each row execute function {{ this.schema }}.stamp_rebuilt_at();
        end if;
    end;
    $do$
    {%- else -%}
    select 1
    {%- endif -%}
{% endmacro %}

{#- Build watermarks. A load stamps its rows (`_loaded_at`, `rebuilt_at`, `changed_at`) with the
    start of its transaction and may commit long after. So the days a build reads are chosen
    against its model's watermark, and the next watermark is the write horizon taken when they
    were chosen (raw.write_horizon: the start of the oldest transaction still open, never older
    than `incremental_loaded_at_margin_hours`). A transaction that commits during or after the
    build started after that horizon, and the next build reads its rows. The horizon is taken
    when the model is compiled, kept in the connection's session (dbt compiles and builds a model
    on one connection), and stored by the model's post-hook, inside the build's transaction:
    a failed build leaves the watermark where it was. -#}

{% macro late_load_margin() -%}
    {#- A number of hours, fractions included (make_interval takes whole hours only). -#}
    ({{ var('incremental_loaded_at_margin_hours') | float }} * interval '1 hour')
{%- endmacro %}

{% macro build_watermarks_relation() -%}
    {{ return(api.Relation.create(
        database=target.database, schema=generate_schema_name('intermediate', none),
        identifier='build_watermarks')) }}
{%- endmacro %}

{%- macro _horizon_setting() -%}
    atw.horizon_{{ local_md5(this | string) }}
{%- endmacro -%}

{#- Takes the horizon for the build about to run (full builds included). -#}
{% macro take_build_horizon() %}
    {#- Unit tests have no `this` and keep no watermark. -#}
    {%- if execute and this is not none -%}
    {%- do run_query(
        "select set_config('" ~ _horizon_setting() ~ "', raw.write_horizon("
        ~ late_load_margin() ~ ")::text, false)") -%}
    {%- endif -%}
{% endmacro %}

{#- The model's watermark, as a SQL expression: the horizon its last build stored, else
    `fallback` (a model built before watermarks existed), else -infinity. -#}
{% macro build_watermark(fallback="null") %}
    {%- set table = build_watermarks_relation() -%}
    {%- set stored -%}
        {%- if load_relation(table) is not none -%}
            (select built_from from {{ table }} where model_name = '{{ this.identifier }}')
        {%- else -%}
            null
        {%- endif -%}
    {%- endset -%}
    {{ return("coalesce(" ~ stored ~ ", " ~ fallback ~ ", '-infinity'::timestamptz)") }}
{% endmacro %}

{#- on-run-start: a watermarks table from before `horizon` was kept gets the column, before any
    model runs. Not in a model's post-hook: there the `alter` would wait for the other
    thread's model, which holds its read of the table until it commits and then waits for
    this one's lock on the table. Checked first, so that the `alter` (whose lock would queue
    every reader behind a build running beside it) runs once. -#}
{% macro keep_own_build_horizons() %}
    {{ add_column_if_absent('horizon', 'timestamptz', relation=build_watermarks_relation()) }}
{% endmacro %}

{#- The horizon the model's last build took itself, as a SQL expression: its watermark before
    `bounded_by` capped it, else (a build before it was kept) the watermark. The days an
    upstream table built by day rebuilt for this model are its rows with `rebuilt_at` from
    here: that table's builds in the same run came before it, and a later build's after it.
    Its capped watermark would take them again in every run: it is that table's own horizon,
    taken before its rows were written. -#}
{% macro own_build_horizon() %}
    {%- set table = build_watermarks_relation() -%}
    {%- if execute and 'horizon' in relation_columns(table) -%}
        {{ return("coalesce((select horizon from " ~ table ~ " where model_name = '"
            ~ this.identifier ~ "'), " ~ build_watermark() ~ ")") }}
    {%- endif -%}
    {{ return(build_watermark()) }}
{% endmacro %}

{#- The column names of `relation`, none when it does not exist. -#}
{%- macro relation_columns(relation) -%}
    {%- set found = load_relation(relation) -%}
    {{ return([] if found is none
        else adapter.get_columns_in_relation(found) | map(attribute='name') | list) }}
{%- endmacro -%}

{#- Post-hook: stores the horizon this build's compilation took (a full build takes one too).
    `bounded_by`: tables built from raw earlier in the run that this model reads, with a
    watermark of their own (the Claude Code staging tables): the stored horizon is no later
    than theirs. A load that commits after such a table was built and before this model took
    its horizon is in raw, where this model chose its days, but not in the table it read; the
    next build must read it again. -#}
{% macro record_build_watermark(bounded_by=[]) %}
    {%- if execute -%}
    {%- set table = build_watermarks_relation() -%}
    {#- Two models built side by side would race to create the table (`if not exists` is not
        safe against a concurrent create): one at a time, until the build commits. #}
    select pg_advisory_xact_lock(hashtext('{{ table }}'));
    {#- A staging table built on its own comes before the intermediate schema. #}
    create schema if not exists {{ table.schema }};
    create table if not exists {{ table }} (
        model_name text primary key,
        built_from timestamptz not null,
        updated_at timestamptz not null default now(),
        horizon timestamptz
    );
    insert into {{ table }} (model_name, built_from, horizon)
    select '{{ this.identifier }}', least(
        horizon::timestamptz
        {%- for model_name in bounded_by %},
        (select built_from from {{ table }} where model_name = '{{ model_name }}')
        {%- endfor %}
    ), horizon::timestamptz
    from (select nullif(current_setting('{{ _horizon_setting() }}', true), '') as horizon) as taken
    where horizon is not null
    on conflict (model_name) do update
        set built_from = greatest({{ table }}.built_from, excluded.built_from),
            horizon = greatest({{ table }}.horizon, excluded.horizon), updated_at = now()
    {%- else -%}
    select 1
    {%- endif -%}
{% endmacro %}

{#- For a model built by day from an incremental fact (one with `rebuilt_at` and a day column):
    the days whose fact rows were rebuilt since this model's watermark, and the run's partition
    window; none on a full build. A day the fact lost entirely is removed by
    `delete_days_missing_from`. -#}
{% macro fact_rebuilt_days(fact, day_column='call_date') %}
    {%- do take_build_horizon() -%}
    {#- Unit tests have no `this` (is_incremental() reads it). -#}
    {%- if not (execute and this is not none and is_incremental()) -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(remember_build_days(_rebuilt_days_of(fact, day_column))) }}
{% endmacro %}

{#- fact_rebuilt_days without taking the horizon: the caller has. -#}
{% macro _rebuilt_days_of(fact, day_column) %}
    {%- set window = partition_window_days() -%}
    {%- set query -%}
        select distinct {{ day_column }} from {{ fact }}
        where rebuilt_at >= {{ build_watermark() }}
        {%- if window %}
        union
        {{ window }}
        {%- endif %}
        order by 1
    {%- endset -%}
    {{ return(run_query(query).columns[0].values() | map('string') | list) }}
{% endmacro %}

{#- The run's partition window (end exclusive): from a Dagster partition run or backfill,
    ATW_DBT_PARTITION_START/END; from a dbt command by hand, the vars partition_start and
    partition_end. A query of its days, or none outside such a run. -#}
{% macro partition_window_days() %}
    {%- set partition_start = var('partition_start', none) or env_var('ATW_DBT_PARTITION_START', '') -%}
    {%- set partition_end = var('partition_end', none) or env_var('ATW_DBT_PARTITION_END', '') -%}
    {%- if not (partition_start and partition_end) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set query -%}
        select generate_series(
            {{ dbt.string_literal(dbt.escape_single_quotes(partition_start)) }}::date,
            {{ dbt.string_literal(dbt.escape_single_quotes(partition_end)) }}::date - 1,
            interval '1 day'
        )::date
    {%- endset -%}
    {{ return(query) }}
{% endmacro %}

{#- The days (ISO strings) as a SQL date[]. -#}
{% macro date_array(days) -%}
    array[
        {%- for day in days %}{{ dbt.string_literal(day) }}{{ ', ' if not loop.last }}{% endfor -%}
    ]::date[]
{%- endmacro %}

{#- The days `model` has that `fact` has not a single row of, as a query. Both are indexed on
    their day column, and the query costs an index probe per day: the model's days found one
    after the other (a skip scan), each looked up in the fact. As `distinct` and `not exists`,
    the planner read both indexes whole, about 2 s per model at 5 M calls. -#}
{% macro days_missing_from(model, day_column, fact, fact_day_column) -%}
    select kept.day
    from (
        with recursive model_days (day) as (
            select min({{ day_column }}) from {{ model }}
            union all
            select (
                select min(later.{{ day_column }}) from {{ model }} as later
                where later.{{ day_column }} > model_days.day
            )
            from model_days
            where model_days.day is not null
        )
        select day from model_days where day is not null
    ) as kept
    where (
        select 1 from {{ fact }} as fact
        where fact.{{ fact_day_column }} = kept.day
        limit 1
    ) is null
{%- endmacro %}

{#- A predicate keeping a date column inside the given days: every day for none (a full build),
    no day for an empty list. -#}
{% macro on_days(column, days) -%}
    {%- if days is none -%}
        true
    {%- elif days | length == 0 -%}
        false
    {%- else -%}
        {{ column }} = any({{ date_array(days) }})
    {%- endif -%}
{%- endmacro %}

{#- The same for a timestamptz column, as UTC-day ranges an index can use. -#}
{% macro on_days_of(column, days) -%}
    {%- if days is none -%}
        true
    {%- elif days | length == 0 -%}
        false
    {%- else -%}
        {{ in_days(column, days) }}
    {%- endif -%}
{%- endmacro %}

{#- Post-hook of such a model: drops the days its fact no longer has. -#}
{% macro delete_days_missing_from(fact, day_column='call_date', fact_day_column='call_date') %}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where {{ day_column }} in (
        {{ days_missing_from(this, day_column, fact, fact_day_column) }}
    )
    {%- else -%}
    select 1
    {%- endif -%}
{% endmacro %}

{#- For a model built per session from `tool_calls` (a model with `rebuilt_at`, `call_date`,
    `source_system` and `session_id`, indexed on the last two) and keyed by day: the days of
    every session that has tool calls on a day rebuilt since this model's watermark, or on a
    day `tool_calls` lost, as the sessions are now and as this model holds them; none on a full
    build. Null ids form one session, as a `group by` makes them. -#}
{% macro session_days(tool_calls) %}
    {%- do take_build_horizon() -%}
    {%- if not (execute and this is not none and is_incremental()) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set missing -%}
        {{ days_missing_from(this, 'call_date', tool_calls, 'call_date') }}
    {%- endset -%}
    {%- set rebuilt = (_rebuilt_days_of(tool_calls, 'call_date')
        + run_query(missing).columns[0].values() | map('string') | list) | unique | list -%}
    {%- if rebuilt | length == 0 -%}
        {{ return(remember_build_days([])) }}
    {%- endif -%}
    {%- set query -%}
        with sessions as (
            select source_system, session_id from {{ tool_calls }}
            where {{ on_days('call_date', rebuilt) }}
            union
            select source_system, session_id from {{ this }}
            where {{ on_days('call_date', rebuilt) }}
        )

        select distinct day from (
            select unnest({{ date_array(rebuilt) }}) as day
            {%- for relation in [tool_calls, this] %}
            union all
            {{ rows_of_sessions(relation, 'sessions', 'call_date') }}
            {%- endfor %}
        ) as days
        order by 1
    {%- endset -%}
    {{ return(remember_build_days(run_query(query).columns[0].values() | map('string') | list)) }}
{% endmacro %}

{#- A build by day replaces the days its new rows are on (delete+insert); a day of its list that
    now yields no row (the last tool call of a day gone, its calls still there) would keep its
    old rows. So the days are kept in the connection's session when the model is compiled (dbt
    compiles and builds a model on one connection) and the post-hook
    `delete_rows_left_on_build_days` removes, on those days, every row this build did not
    write: the build stamps its rows `rebuilt_at = now()`, the start of its transaction. -#}
{%- macro _build_days_setting() -%}
    atw.days_{{ local_md5(this | string) }}
{%- endmacro -%}

{% macro remember_build_days(days) %}
    {%- do run_query(
        "select set_config('" ~ _build_days_setting() ~ "', '" ~ days | join(',') ~ "', false)") -%}
    {{ return(days) }}
{% endmacro %}

{#- The days remember_build_days kept for this build, as a SQL date[] (null when none). -#}
{% macro build_days_array() -%}
    string_to_array(nullif(current_setting('{{ _build_days_setting() }}', true), ''), ',')::date[]
{%- endmacro %}

{% macro delete_rows_left_on_build_days(day_column='call_date') %}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where {{ day_column }} = any({{ build_days_array() }})
        and rebuilt_at < now()
    {%- else -%}
    select 1
    {%- endif -%}
{% endmacro %}

{#- The `columns` of the rows of `relation` (with source_system and session_id) in `sessions`
    (a relation of those two columns), null ids as one session. Each session with an id is an
    index lookup on (source_system, session_id): `offset 0` keeps the lateral subquery from
    being flattened into a join that the planner, guessing the sessions at a fraction of the
    table, would make a hash join over the whole of it. -#}
{% macro rows_of_sessions(relation, sessions, columns='*') -%}
    select found.*
    from (
        select distinct source_system, session_id from {{ sessions }} where session_id is not null
    ) as wanted
    cross join lateral (
        select {{ columns }} from {{ relation }} as session_rows
        where session_rows.source_system = wanted.source_system
            and session_rows.session_id = wanted.session_id
        offset 0
    ) as found
    union all
    select {{ columns }} from {{ relation }}
    where session_id is null
        and source_system in (
            select source_system from {{ sessions }} where session_id is null
        )
{%- endmacro %}

{#- The call days changed since `since`, as a query of `day`: the days the calls fact `calls`
    rebuilt, the days it dropped (its log, delete_vanished_days), and the days raw rows left
    (raw.changed_days: for a full refresh of the fact, which logs nothing), less the days
    before the retention horizon, which the fact keeps as they were. -#}
{% macro changed_call_days(calls, since) -%}
    select distinct call_date as day from {{ calls }} where rebuilt_at >= {{ since }}
    {%- set log = dropped_call_days_relation(calls) %}
    {%- if load_relation(log) is not none %}
    union
    select day from {{ log }} where dropped_at >= {{ since }}
    {%- endif %}
    union
    select day from {{ source('raw_ops', 'changed_days') }}
    where changed_at >= {{ since }} and day >= {{ retention_horizon() }}::date
{%- endmacro %}
