with

results as (

    select * from "warehouse"."ops"."dq_validation_results"
    
        where validated_at >= (
                select coalesce(max(built.validation_date), '-infinity'::date)::timestamptz
                from "warehouse"."marts"."fct_data_quality_daily" as built
            )
    

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