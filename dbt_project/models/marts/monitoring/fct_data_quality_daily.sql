{{ config(
    materialized='incremental',
    unique_key='dq_key',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    pre_hook="{{ rename_column_if_present('validated_on', 'validation_date') }}",
    indexes=[{'columns': ['validation_date']}],
) }}
{#- The data-quality history at daily grain, for analysts and Grafana (they cannot read ops);
    each SQL rule of a suite is its own row (its description tells them apart).
    A build recomputes the newest day it holds and any later day; earlier days are final, so
    the retention of ops.dq_validation_results never changes them. -#}
with

results as (

    select * from {{ source('ops', 'dq_validation_results') }}
    {% if is_incremental() %}
        where validated_at >= (
                select coalesce(max(built.validation_date), '-infinity'::date)::timestamptz
                from {{ this }} as built
            )
    {% endif %}

),

daily as (

    select
        (validated_at at time zone 'UTC')::date as validation_date,
        suite,
        check_name,
        stage,
        table_name,
        severity,
        expectation,
        column_name,
        description,
        count(*) as evaluation_count,
        count(*) filter (where not success) as failure_count,
        max(validated_at) as last_validated_at,
        (array_agg(success order by validated_at desc, result_id desc))[1] as last_success,
        (array_agg(observed_value order by validated_at desc, result_id desc))[1]
            as last_observed_value
    from results
    group by 1, 2, 3, 4, 5, 6, 7, 8, 9

),

final as (

    select
        md5(concat_ws(
            '|', validation_date, suite, check_name, expectation,
            coalesce(column_name, ''), coalesce(description, '')
        )) as dq_key,
        *
    from daily

)

select * from final
{#- A full refresh keeps the days whose results retention deleted. -#}
{% if not is_incremental() -%}
    {{ keep_rows_before_retention_horizon('validation_date', 'dq_key') }}
{%- endif %}
