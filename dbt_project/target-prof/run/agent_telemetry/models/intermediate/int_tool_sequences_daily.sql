
      delete from "warehouse"."intermediate"."int_tool_sequences_daily" as DBT_INTERNAL_DEST
    where call_date = any(array(
        select distinct call_date
        from "int_tool_sequences_daily__dbt_tmp104324451156" as DBT_INTERNAL_SOURCE
    ));

    insert into "warehouse"."intermediate"."int_tool_sequences_daily" ("call_date", "source_system", "session_id", "tools", "sequence_length", "occurrence_count", "first_seen_at", "last_seen_at", "is_session_first_day", "rebuilt_at")
    (
        select "call_date", "source_system", "session_id", "tools", "sequence_length", "occurrence_count", "first_seen_at", "last_seen_at", "is_session_first_day", "rebuilt_at"
        from "int_tool_sequences_daily__dbt_tmp104324451156"
    )
  