
  create view "warehouse"."staging"."stg_landing__metric_events__dbt_tmp" with (security_invoker = true)
  as (
    with

source as (

    select * from "warehouse"."raw"."landed_metric_events"

),

renamed as (

    select
        -- ids
        event_id,
        coalesce(tenant_id, agent_id, 'unknown') as tenant_id,
        -- A session id when the SDK sends one, else the trace groups the calls.
        coalesce(session_id, trace_id, event_id) as session_id,
        trace_id,
        span_id,

        -- strings
        'landing_metric' as source_system,
        metric,
        coalesce(agent_id, 'unknown') as agent_name,
        model_id as model_name,
        agent_version,
        error_class,
        error_code,
        file_path,

        -- numerics
        latency_ms,
        coalesce(retries, 0) as retries,
        prompt_tokens,
        completion_tokens,
        case
        when prompt_tokens is null and completion_tokens is null then null
        else coalesce(prompt_tokens, 0) + coalesce(completion_tokens, 0)
    end as total_tokens,
        jsonb_array_length(tool_calls) as tool_call_count,
        tool_calls,

        -- booleans
        error_class is null and metric not similar to '%(error|fail)%' as is_success,
        model_id is not null or prompt_tokens is not null as is_llm_call,
        is_time_inferred,

        -- timestamps
        occurred_at,
        _loaded_at as loaded_at

    from source

)

select * from renamed
  );