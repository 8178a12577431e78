
      delete from "warehouse"."marts"."fct_data_quality_daily" as DBT_INTERNAL_DEST
    where dq_key = any(array(
        select distinct dq_key
        from "fct_data_quality_daily__dbt_tmp104316266430" as DBT_INTERNAL_SOURCE
    ));

    insert into "warehouse"."marts"."fct_data_quality_daily" ("dq_key", "validation_date", "suite", "check_name", "stage", "table_name", "severity", "expectation", "column_name", "description", "evaluation_count", "failure_count", "last_validated_at", "last_success", "last_observed_value")
    (
        select "dq_key", "validation_date", "suite", "check_name", "stage", "table_name", "severity", "expectation", "column_name", "description", "evaluation_count", "failure_count", "last_validated_at", "last_success", "last_observed_value"
        from "fct_data_quality_daily__dbt_tmp104316266430"
    )
  