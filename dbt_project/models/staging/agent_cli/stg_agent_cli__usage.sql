{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='usage_key',
        on_schema_change='fail',
        pre_hook=[
            "select pg_advisory_xact_lock(hashtext('{{ this }}'))",
            "{{ add_column_if_absent('rebuilt_at', 'timestamptz', 'truncate table ' ~ this ~ ';') }}",
        ],
        post_hook=[
            "{{ delete_rows_left_on_build_days(\"(occurred_at at time zone 'UTC')::date\") }}",
            "{{ index_if_absent(['rebuilt_at']) }}",
            "{{ record_build_watermark() }}",
        ],
        indexes=[
            {'columns': ['usage_key'], 'unique': True}, {'columns': ['occurred_at']},
            {'columns': ['rebuilt_at']},
        ],
    )
}}
{#- A table, not a view like most staging models: its rules compare rows across files (window
    functions over records of several files), which a view would compute again for each model
    and test that reads it. Incremental by UTC day (macros/agent_cli.sql): a run counts again
    the days whose records were loaded, changed or went since its last build, and the rows
    those depend on are read whatever their day (a fork's rollout and its parent's, a Copilot
    session's shutdowns); the copies Codex and OpenCode de-duplicate share their record's
    time, so its day. A table from before it was incremental is emptied and built whole once
    (the pre-hook adds `rebuilt_at`). -#}
{#- Each usage record of the agent CLIs with the rules that need more than one file, as ccusage
    20.0.24 applies them (docs/sources.md, "Agent CLIs"):
    - Codex forks: the leading events equal to the parent's (when the parent's rollout is
      loaded), else the leading burst, are the parent's history replayed; so is a turn the fork
      replays from before it (`is_replayed_turn`, where ccusage 20.0.24 counts it again);
    - Codex: an event copied into another file (same time in ms, model and counts) counts once
      in daily and monthly totals, once per session in the session report;
    - OpenCode: a message in opencode.db counts, not its storage file; a message in several
      files counts once (the first path);
    - Copilot: an OTel span counts only where no later shutdown of its session covers the model.
-#}
{%- set days = agent_cli_changed_days() -%}
with

-- The source is named in each CTE that reads it, not imported once: a CTE read twice is
-- materialised whole, and these read it through its indexes.
usage as (

    select * from {{ source('agent_cli', 'agent_cli_usage') }}
    where {{ on_days_of('occurred_at', days) }}

),

fork_files as (

    select distinct
        file_path,
        forked_from_id
    from usage
    where agent_cli = 'codex' and forked_from_id is not null

),

thread_files as (

    select distinct
        file_path,
        thread_id
    from {{ source('agent_cli', 'agent_cli_usage') }}
    where agent_cli = 'codex'
        and thread_id in (select fork_files.forked_from_id from fork_files)

),

-- Codex: the loaded rollout of each fork's parent thread (the first by path).
parents as (

    select
        fork_files.file_path,
        min(thread_files.file_path) as parent_file_path
    from fork_files
    inner join thread_files
        on fork_files.forked_from_id = thread_files.thread_id
            and fork_files.file_path <> thread_files.file_path
    group by fork_files.file_path

),

-- Every record of those forks' rollouts and of their parents', whatever its day.
codex as (

    select * from {{ source('agent_cli', 'agent_cli_usage') }}
    where agent_cli = 'codex'
        and file_path in (
            select parents.file_path from parents
            union all
            select parents.parent_file_path from parents
        )

),

-- How many of a fork's leading events equal its parent's, one by one (the parent's from
-- before the fork's).
forks as (

    select
        child.file_path,
        coalesce(
            min(child.usage_ordinal) filter (
                where parent.file_path is null
                or (
                    parent.input_tokens, parent.cache_read_tokens, parent.output_tokens,
                    parent.reasoning_tokens, parent.total_tokens
                )
                <> (
                    child.input_tokens, child.cache_read_tokens, child.output_tokens,
                    child.reasoning_tokens, child.total_tokens
                )
            ),
            max(child.usage_ordinal) + 1
        ) - 1 as replayed_prefix
    from codex as child
    inner join parents on child.file_path = parents.file_path
    left join codex as parent
        on parents.parent_file_path = parent.file_path
            and child.usage_ordinal = parent.usage_ordinal
            and child.occurred_at >= parent.occurred_at
    group by child.file_path

),

replays as (

    select
        usage.*,
        case
            when usage.is_replayed_turn then true
            when forks.replayed_prefix > 0 then usage.usage_ordinal <= forks.replayed_prefix
            else usage.in_leading_burst
        end as is_replayed
    from usage
    left join forks
        on usage.agent_cli = 'codex' and usage.file_path = forks.file_path

),

-- Copilot: the latest shutdown per session and model, of the sessions with OTel spans read.
shutdowns as (

    select
        agent_cli,
        session_id,
        model,
        max(occurred_at) as last_shutdown_at
    from {{ source('agent_cli', 'agent_cli_usage') }}
    where agent_cli = 'copilot_cli'
        and record_kind = 'shutdown'
        and session_id in (
            select usage.session_id from usage
            where usage.agent_cli = 'copilot_cli' and usage.record_kind like 'otel%'
        )
    group by agent_cli, session_id, model

),

counted as (

    select
        replays.*,
        not replays.is_replayed
        and not coalesce(
            replays.record_kind like 'otel%' and replays.occurred_at <= shutdowns.last_shutdown_at,
            false
        ) as is_counted
    from replays
    left join shutdowns
        on replays.agent_cli = 'copilot_cli'
            and replays.agent_cli = shutdowns.agent_cli
            and replays.session_id = shutdowns.session_id
            and replays.model = shutdowns.model

),

ranked as (

    select
        *,
        case when agent_cli = 'codex' and dedup_key is not null then row_number() over (
                    partition by agent_cli, is_counted, dedup_key order by file_path, record_index
                )
        end as daily_copy,
        case when agent_cli = 'codex' and dedup_key is not null then row_number() over (
                    partition by agent_cli, is_counted, session_id, dedup_key
                    order by file_path, record_index
                )
        end as session_copy,
        case when agent_cli = 'opencode' and message_id is not null then row_number() over (
                    partition by agent_cli, is_counted, message_id
                    order by
                        case origin when 'db' then 0 when 'db_v2' then 1 else 2 end asc,
                        file_path asc,
                        record_index asc
                )
        end as message_copy
    from counted

),

final as (

    select
        md5(agent_cli || '|' || file_path || '|' || record_key) as usage_key,
        agent_cli,
        file_path,
        record_key,
        record_kind,
        session_id,
        thread_id,
        forked_from_id,
        message_id,
        response_id,
        trace_id,
        project,
        model as model_name,
        provider,
        -- rows read before the rule had its name say `split`: the same rule
        case when tier_rule = 'split' then 'model' else tier_rule end as tier_rule,
        record_index,
        usage_ordinal,
        input_tokens,
        output_tokens,
        cache_read_tokens,
        cache_creation_tokens,
        reasoning_tokens,
        extra_output_tokens,
        total_tokens,
        tier_basis_tokens,
        request_count,
        logged_cost_usd,
        is_fallback_model,
        is_replayed,
        is_counted and coalesce(daily_copy, 1) = 1 and coalesce(message_copy, 1) = 1
            as counts_in_daily,
        is_counted and coalesce(session_copy, 1) = 1 and coalesce(message_copy, 1) = 1
            as counts_in_session,
        occurred_at,
        _loaded_at as loaded_at,
        now() as rebuilt_at
    from ranked

)

select * from final
