{#- The dbt tests of the staging views read the UTC days that changed since they last passed,
    not all of history: dbt_project.yml gives those tests `where: __changed_days__`, and this
    override of dbt's macro turns it into ranges on the view's event time. The Dagster step
    passes the days in ATW_DBT_TEST_DAYS (orchestration/defs/dbt/test_window.py): ISO days
    separated by commas, `none` when nothing changed, unset or empty for every row (a first
    run, the weekly full validation, a dbt command by hand). An environment variable, not a
    var: dbt keeps its partial-parse state only while the vars stay the same. The marts step
    sets it too, for the singular tests that start from the staging views (in_test_window).
    A test of an incremental model whose key holds the day its builds replace whole reads the
    rows rebuilt since the tests last passed instead (`where: __rebuilt_since__`, from
    ATW_DBT_TESTS_PASSED_FROM, the watermark; unset for every row), and a key test of a view
    whose raw table has that key as its primary key the rows loaded since
    (`where: __loaded_since__`). -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where == '__changed_days__' -%}
        {%- if test_window_days() is none or relation.identifier not in windowed_views() -%}
            {%- do return(relation) -%}
        {%- endif -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ in_test_window('occurred_at') }}) as dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- elif where == '__rebuilt_since__' -%}
        {%- set since = tests_passed_from(relation) -%}
        {%- if since is none -%}
            {%- do return(relation) -%}
        {%- endif -%}
        {%- do return('(select * from ' ~ relation ~ ' where rebuilt_at >= ' ~ since ~ ') as dbt_subquery') -%}
    {%- elif where == '__loaded_since__' -%}
        {#- For a view whose raw table's key is the tested key (unique by construction): its rows
            loaded since the tests last passed, through the raw table's `_loaded_at` index. #}
        {%- set since = tests_passed_from() -%}
        {%- if since is none -%}
            {%- do return(relation) -%}
        {%- endif -%}
        {%- do return('(select * from ' ~ relation ~ ' where loaded_at >= ' ~ since ~ ') as dbt_subquery') -%}
    {%- elif where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') as dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}

{#- The days in ATW_DBT_TEST_DAYS: none for every row, [] for `none`. -#}
{% macro test_window_days() %}
    {%- set days = env_var('ATW_DBT_TEST_DAYS', '') | trim -%}
    {%- if days == '' -%}
        {%- do return(none) -%}
    {%- elif days == 'none' -%}
        {%- do return([]) -%}
    {%- endif -%}
    {%- set day_list = days.split(',') | map('trim') | list -%}
    {%- for day in day_list if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', day) -%}
        {%- do exceptions.raise_compiler_error('ATW_DBT_TEST_DAYS holds something other than ISO days') -%}
    {%- endfor -%}
    {%- do return(day_list) -%}
{% endmacro %}

{#- A predicate keeping `column` (a timestamptz) on the window's days: true for every row,
    false for none. For the singular tests that read staging views (tests/singular). -#}
{% macro in_test_window(column) -%}
    {{ on_days_of(column, test_window_days()) }}
{%- endmacro %}

{#- The staging views with an `occurred_at` that a range reaches the raw index through. -#}
{% macro windowed_views() %}
    {{ return([
        'stg_collector__telemetry_events',
        'stg_landing__collector_events',
        'stg_landing__metric_events',
        'stg_claude_code__api_responses',
        'stg_claude_code__session_responses',
        'stg_claude_code__tool_calls',
    ]) }}
{% endmacro %}

{#- The watermark of the step's tests (ATW_DBT_TESTS_PASSED_FROM) as a SQL timestamptz, or none
    when they read every row. For the tests of `relation`, the model's own watermark when the
    step has one (ATW_DBT_TESTS_PASSED_FROM_MODELS, a JSON object by model name): the horizon
    taken after its last build, so the rows that build wrote, which its tests read then, are
    not read again. -#}
{% macro tests_passed_from(relation=none) %}
    {%- set since = env_var('ATW_DBT_TESTS_PASSED_FROM', '') | trim -%}
    {%- if since == '' -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- if relation is not none and relation.identifier -%}
        {%- set by_model = fromjson(env_var('ATW_DBT_TESTS_PASSED_FROM_MODELS', '') or '{}') -%}
        {%- if by_model is not mapping -%}
            {%- do exceptions.raise_compiler_error('ATW_DBT_TESTS_PASSED_FROM_MODELS holds something other than a JSON object') -%}
        {%- endif -%}
        {%- set since = by_model.get(relation.identifier, since) | string -%}
    {%- endif -%}
    {%- if not modules.re.fullmatch('[0-9T:.+ -]+', since) -%}
        {%- do exceptions.raise_compiler_error('ATW_DBT_TESTS_PASSED_FROM holds something other than a timestamp') -%}
    {%- endif -%}
    {%- do return("'" ~ since ~ "'::timestamptz") -%}
{% endmacro %}

{#- A post-hook run after the model's transaction commits (`transaction: false`): the write
    horizon now, for the tests' watermark of this model (test_horizons_relation). Every row
    stamped before it was committed before it was taken, so the model's tests, which run after
    this hook, saw it. Only in a Dagster dbt step (ATW_DBT_STEP_ID), only for incremental
    models (the others are tested whole). -#}
{% macro record_tested_horizon() %}
    {#- The variables are read only when the hook runs: dbt renders hooks when it parses too,
        and a model whose parse read a variable is parsed again whenever it changes (the step
        id changes in every step). #}
    {%- set step_id = (env_var('ATW_DBT_STEP_ID', '') | trim) if execute else '' -%}
    {%- if step_id and config.get('materialized') == 'incremental' -%}
        {%- if not modules.re.fullmatch('[0-9a-f-]+', step_id) -%}
            {%- do exceptions.raise_compiler_error('ATW_DBT_STEP_ID holds something other than an id') -%}
        {%- endif -%}
        {#- The checks' margin, as the step resolved it (ATW_DQ_WINDOW_MARGIN_HOURS). #}
        {%- set hours = env_var('ATW_DBT_HORIZON_MARGIN_HOURS', '') | trim -%}
        {%- if not modules.re.fullmatch('[0-9]+([.][0-9]+)?', hours) or hours | float <= 0 -%}
            {%- do exceptions.raise_compiler_error('ATW_DBT_HORIZON_MARGIN_HOURS must be a positive number of hours') -%}
        {%- endif -%}
        {%- set hours = hours | float -%}
        {%- set table = test_horizons_relation() -%}
    begin;
    {#- Models built side by side would race to create the table. #}
    select pg_advisory_xact_lock(hashtext('{{ table }}'));
    create table if not exists {{ table }} (
        model_name text primary key,
        step_id text not null,
        horizon timestamptz not null,
        recorded_at timestamptz not null default clock_timestamp()
    );
    insert into {{ table }} (model_name, step_id, horizon)
    values (
        '{{ this.identifier }}', '{{ step_id }}',
        raw.write_horizon(make_interval(secs => {{ hours * 3600 }}))
    )
    on conflict (model_name) do update
        set step_id = excluded.step_id, horizon = excluded.horizon, recorded_at = clock_timestamp();
    commit
    {%- else -%}
    select 1
    {%- endif -%}
{% endmacro %}

{#- Per incremental model, the horizon taken after its last build in a Dagster dbt step
    (record_tested_horizon); orchestration/defs/dbt/test_window.py keeps it as the model's
    test watermark once the step's tests all pass. -#}
{% macro test_horizons_relation() -%}
    {{ return(api.Relation.create(
        database=target.database, schema=generate_schema_name('intermediate', none),
        identifier='dbt_model_horizons')) }}
{%- endmacro %}
