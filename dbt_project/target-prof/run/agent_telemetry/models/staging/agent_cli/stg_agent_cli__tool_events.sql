
  create view "warehouse"."staging"."stg_agent_cli__tool_events__dbt_tmp" with (security_invoker = true)
  as (
    with

tool_events as (

    select * from "warehouse"."raw"."agent_cli_tool_events"

),

final as (

    select
        md5(agent_cli || '|' || file_path || '|' || record_key) as tool_event_key,
        agent_cli,
        file_path,
        record_key,
        session_id,
        trace_id,
        tool_name,
        error_type,
        duration_ms,
        is_error,
        occurred_at,
        _loaded_at as loaded_at
    from tool_events

)

select * from final
  );