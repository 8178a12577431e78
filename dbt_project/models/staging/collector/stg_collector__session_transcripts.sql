with

source as (

    select * from {{ source('collector', 'collector_session_transcripts') }}

),

renamed as (

    select
        -- ids
        session_id,
        source_id as transcript_id,
        host_id as tenant_id,

        -- numerics
        message_count,
        coalesce({{ json_count('message_counts', 'user') }}, 0) as user_message_count,
        coalesce({{ json_count('message_counts', 'assistant') }}, 0) as assistant_message_count,
        coalesce({{ json_count('message_counts', 'tool_result') }}, 0) as tool_result_message_count,

        -- timestamps
        created_at as transcript_created_at,
        updated_at as transcript_updated_at

    from source

)

select * from renamed
