
  create view "warehouse"."staging"."stg_collector__transcript_messages__dbt_tmp" with (security_invoker = true)
  as (
    with

source as (

    select * from "warehouse"."raw"."collector_transcript_messages"

),

renamed as (

    select
        -- ids
        session_id || ':' || message_index::text as message_id,
        session_id,

        -- strings
        role as message_role,
        token_encoding,

        -- numerics
        message_index,
        content_chars,
        token_count as estimated_tokens,
        redaction_count,

        -- booleans
        is_token_estimate,

        -- timestamps
        _loaded_at as loaded_at

    from source

)

select * from renamed
  );