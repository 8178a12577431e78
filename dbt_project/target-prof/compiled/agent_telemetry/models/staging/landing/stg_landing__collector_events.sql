with

source as (

    select * from "warehouse"."raw"."landed_collector_events"

),

-- The same event dropped in two files (a batch re-sent under another name, a copy of a file):
-- keep the first copy by file and position, count the copies, as for the collector's retries.
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
    order by created_at, event_fingerprint, file_path, event_index

),

renamed as (

    select
        -- ids
        file_path || '#' || event_index::text as event_id,
        event_fingerprint,
        host_id as tenant_id,
        host_id,
        session_id,
        generation_id,

        -- strings
        'landing_batch' as source_system,
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
        file_path,

        -- numerics
        latency_ms,
        coalesce(error_count, 0) as error_count,
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
        copy_count,
        case
        when jsonb_typeof(extra_data) = 'string'
            and pg_input_is_valid(extra_data #>> '{}', 'jsonb')
            then (extra_data #>> '{}')::jsonb
        else extra_data
    end as extra_data,

        -- booleans
        coalesce(success, decision <> 'ERROR') as is_success,
        coalesce(execution_type = 'llm', model_name is not null) as is_llm_call,
        cost is not null as has_cost,

        -- timestamps
        created_at as occurred_at,
        _loaded_at as loaded_at

    from first_copies

)

select * from renamed