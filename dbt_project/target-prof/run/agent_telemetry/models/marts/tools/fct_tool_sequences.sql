
      delete from "warehouse"."marts"."fct_tool_sequences" as DBT_INTERNAL_DEST
    where tool_sequence = any(array(
        select distinct tool_sequence
        from "fct_tool_sequences__dbt_tmp104326397062" as DBT_INTERNAL_SOURCE
    ));

    insert into "warehouse"."marts"."fct_tool_sequences" ("tool_sequence", "first_tool", "last_tool", "sequence_length", "occurrence_count", "session_count", "first_seen_at", "last_seen_at")
    (
        select "tool_sequence", "first_tool", "last_tool", "sequence_length", "occurrence_count", "session_count", "first_seen_at", "last_seen_at"
        from "fct_tool_sequences__dbt_tmp104326397062"
    )
  