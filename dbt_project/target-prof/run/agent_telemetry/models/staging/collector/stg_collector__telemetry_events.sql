
  create view "warehouse"."staging"."stg_collector__telemetry_events__dbt_tmp" with (security_invoker = true)
  as (
    with

source as (

    select * from "warehouse"."raw"."collector_events"

),

-- Retried batches repeat an event under new ids: keep the first copy, count the copies.
first_copies as (

    select distinct on (created_at, event_fingerprint)
        *,
        count(*) over (partition by created_at, event_fingerprint) as copy_count
    from (
        select
            *,
            md5(row(
        host_id,
        session_id,
        agent_name,
        hook_name,
        tool_name,
        decision,
        extract(epoch from created_at),
        latency_ms,
        prompt_tokens,
        completion_tokens,
        total_tokens
    )::text) as event_fingerprint
        from source
    ) as fingerprinted
    order by created_at, event_fingerprint, source_id

),

renamed as (

    select
        -- ids
        source_id as event_id,
        event_fingerprint,
        host_id as tenant_id,
        host_id,
        session_id,
        generation_id,

        -- strings
        'collector' as source_system,
        event_type,
        agent_name,
        hook_name,
        nullif(tool_name, '') as tool_name,
        mode as execution_mode,
        execution_type,
        decision,
        decision_reason,
        working_dir,
        model_tier,
        model_name,
        client_version,

        -- numerics
        latency_ms,
        error_count,
        prompt_tokens,
        completion_tokens,
        cached_tokens,
        reasoning_tokens,
        total_tokens as reported_total_tokens,
        case
        when prompt_tokens is null and completion_tokens is null then total_tokens
        else coalesce(prompt_tokens, 0) + coalesce(completion_tokens, 0)
    end
            as total_tokens,
        cost as cost_usd,
        cost_fetch_retries,
        copy_count,
        case
        when jsonb_typeof(extra_data) = 'string'
            and pg_input_is_valid(extra_data #>> '{}', 'jsonb')
            then (extra_data #>> '{}')::jsonb
        else extra_data
    end as extra_data,

        -- booleans
        success as is_success,
        execution_type = 'llm' as is_llm_call,
        cost is not null as has_cost,

        -- timestamps
        created_at as occurred_at,
        _loaded_at as loaded_at

    from first_copies

)

select * from renamed
  );