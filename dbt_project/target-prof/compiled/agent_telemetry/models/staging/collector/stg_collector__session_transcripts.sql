with

source as (

    select * from "warehouse"."raw"."collector_session_transcripts"

),

renamed as (

    select
        -- ids
        session_id,
        source_id as transcript_id,
        host_id as tenant_id,

        -- numerics
        message_count,
        coalesce(case
        when jsonb_typeof(message_counts -> 'user') = 'number'
            and (message_counts ->> 'user')::numeric between 0 and 2147483647
            then round((message_counts ->> 'user')::numeric)::integer
    end, 0) as user_message_count,
        coalesce(case
        when jsonb_typeof(message_counts -> 'assistant') = 'number'
            and (message_counts ->> 'assistant')::numeric between 0 and 2147483647
            then round((message_counts ->> 'assistant')::numeric)::integer
    end, 0) as assistant_message_count,
        coalesce(case
        when jsonb_typeof(message_counts -> 'tool_result') = 'number'
            and (message_counts ->> 'tool_result')::numeric between 0 and 2147483647
            then round((message_counts ->> 'tool_result')::numeric)::integer
    end, 0) as tool_result_message_count,

        -- timestamps
        created_at as transcript_created_at,
        updated_at as transcript_updated_at

    from source

)

select * from renamed