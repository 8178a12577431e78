-- The warehouse's raw schema: what the loaders write. dbt reads it as sources and never writes it.
create schema if not exists raw;

-- The collector's rows as it holds them, one per source id: a bulk load writes each row once.
-- Unwrapping double-encoded jsonb, fingerprinting retried-batch copies and counting each event
-- once happen in staging (stg_collector__telemetry_events). `_run_id` comes from the loader's
-- `atw.run_id` setting. Partitioned by month of `created_at` (see "Monthly partitions" below),
-- so the key holds the time too: the loader keeps a source id on one row (events.py).
create table if not exists raw.collector_events (
    source_id bigint not null,
    host_id text,
    session_id text,
    event_type text,
    agent_name text,
    hook_name text,
    mode text,
    execution_type text,
    decision text,
    decision_reason text,
    tool_name text,
    working_dir text,
    latency_ms integer,
    model_tier text,
    model_name text,
    success boolean,
    error_count integer,
    extra_data jsonb,
    created_at timestamptz,
    prompt_tokens integer,
    completion_tokens integer,
    total_tokens integer,
    cached_tokens integer,
    reasoning_tokens integer,
    cost numeric(12, 8),
    client_version text,
    generation_id text,
    cost_fetch_retries integer,
    _run_id text not null default current_setting('atw.run_id'),
    _loaded_at timestamptz not null default now(),
    primary key (source_id, created_at)
) partition by range (created_at);

create table if not exists raw.collector_session_transcripts (
    session_id text primary key,
    source_id bigint not null,
    host_id text not null,
    message_counts jsonb,
    message_count integer not null,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    _run_id text not null,
    _loaded_at timestamptz not null default now()
);

create table if not exists raw.collector_transcript_messages (
    session_id text not null,
    message_index integer not null,
    role text not null,
    content text not null,
    content_chars integer not null,
    token_count integer not null,
    is_token_estimate boolean not null,
    token_encoding text not null,
    redaction_count integer not null,
    _run_id text not null,
    _loaded_at timestamptz not null default now(),
    primary key (session_id, message_index)
);

-- The key that fingerprints ids which held a secret (ingestion/core/redaction.py): one per warehouse,
-- made once, readable by the loaders only.
create table if not exists raw.redaction_key (
    key text not null,
    created_at timestamptz not null default now(),
    one_row boolean primary key default true check (one_row)
);
insert into raw.redaction_key (key)
select encode(sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8')),
    'hex')
where not exists (select 1 from raw.redaction_key);
-- dbt reads raw, but not this.
do $$
begin
    if exists (select 1 from pg_roles where rolname = 'atw_transformer') then
        revoke all on raw.redaction_key from atw_transformer;
    end if;
end;
$$;

create table if not exists raw.watermarks (
    source text primary key,
    high_id bigint,
    high_at timestamptz,
    updated_at timestamptz not null default now()
);

-- One row per load and source. Every row read is accounted for: loaded (inserted or changed),
-- quarantined, or skipped as a duplicate of what the warehouse already holds.
create table if not exists raw.load_log (
    run_id text not null,
    source text not null,
    started_at timestamptz not null,
    finished_at timestamptz not null,
    rows_read bigint not null,
    rows_loaded bigint not null,
    rows_quarantined bigint not null,
    rows_skipped_duplicate bigint not null,
    rows_inserted bigint not null,
    rows_updated bigint not null,
    primary key (run_id, source, started_at),
    constraint every_row_accounted_for
        check (rows_read = rows_loaded + rows_quarantined + rows_skipped_duplicate),
    constraint loaded_is_inserted_or_updated check (rows_loaded = rows_inserted + rows_updated)
);

-- Rows and lines that could not be loaded. Never the payload: a hash identifies it.
create table if not exists raw.quarantine (
    source text not null,
    source_key text not null,
    reason_code text not null,
    row_hash text not null,
    detail text,
    run_id text not null,
    last_run_id text not null,
    quarantined_at timestamptz not null default now(),
    last_seen_at timestamptz not null default now(),
    primary key (source, source_key, row_hash)
);

-- Secrets and e-mail addresses replaced in stored text, per load, source and kind.
create table if not exists raw.redaction_log (
    run_id text not null,
    source text not null,
    kind text not null,
    redactions bigint not null,
    logged_at timestamptz not null default now()
);

-- File drops: each file is processed once per content hash; a changed file is reprocessed.
create table if not exists raw.landed_files (
    file_path text primary key,
    file_format text not null,
    content_sha256 text not null,
    size_bytes bigint not null,
    rows_read bigint not null,
    rows_loaded bigint not null,
    rows_quarantined bigint not null,
    rows_skipped_duplicate bigint not null,
    run_id text not null,
    processed_at timestamptz not null default now()
);

-- Collector batch payloads ({"events": [...]}, camelCase) dropped as files.
create table if not exists raw.landed_collector_events (
    file_path text not null,
    event_index integer not null,
    host_id text not null,
    session_id text not null,
    event_type text not null,
    agent_name text not null,
    hook_name text,
    mode text,
    execution_type text,
    decision text not null,
    decision_reason text,
    tool_name text,
    working_dir text,
    latency_ms integer not null,
    model_tier text,
    model_name text,
    success boolean,
    error_count integer,
    extra_data jsonb,
    created_at timestamptz not null,
    prompt_tokens integer,
    completion_tokens integer,
    total_tokens integer,
    cached_tokens integer,
    reasoning_tokens integer,
    cost numeric(12, 8),
    client_version text,
    generation_id text,
    decision_reason_redactions integer not null default 0,
    _run_id text not null,
    _loaded_at timestamptz not null default now(),
    primary key (file_path, event_index, created_at)
) partition by range (created_at);

-- metric/value events (one JSON object per line), keyed by value.eventId (the loader keeps an id
-- on one row: the partition key has to be part of the primary key).
create table if not exists raw.landed_metric_events (
    event_id text not null,
    metric text not null,
    agent_id text,
    tenant_id text,
    session_id text,
    trace_id text,
    span_id text,
    model_id text,
    agent_version text,
    prompt_tokens integer,
    completion_tokens integer,
    latency_ms integer,
    retries integer,
    error_class text,
    error_code text,
    tool_calls jsonb,
    occurred_at timestamptz not null,
    is_time_inferred boolean not null,
    file_path text not null,
    line_number integer not null,
    _run_id text not null,
    _loaded_at timestamptz not null default now(),
    primary key (event_id, occurred_at)
) partition by range (occurred_at);

-- Claude Code session logs (CLAUDE_PROJECTS_DIR): files read incrementally, one row per line.
create table if not exists raw.claude_code_files (
    file_path text primary key,
    project text not null,
    session_id text not null,
    is_subagent_file boolean not null,
    size_bytes bigint not null,
    consumed_bytes bigint not null,
    consumed_sha256 text not null,
    lines_consumed bigint not null,
    run_id text not null,
    processed_at timestamptz not null default now()
);

-- Partitioned by month of `_event_at` (see "Monthly partitions" below).
create table if not exists raw.claude_code_lines (
    file_path text not null,
    line_number integer not null,
    project text not null,
    file_session_id text not null,
    line_type text,
    session_id text,
    uuid text,
    parent_uuid text,
    occurred_at timestamptz,
    version text,
    cwd text,
    git_branch text,
    is_sidechain boolean,
    agent_id text,
    request_id text,
    message_id text,
    message_role text,
    model text,
    stop_reason text,
    input_tokens bigint,
    output_tokens bigint,
    cache_creation_input_tokens bigint,
    cache_creation_5m_tokens bigint,
    cache_creation_1h_tokens bigint,
    cache_read_input_tokens bigint,
    has_cache_creation_breakdown boolean not null default false,
    content_text text,
    content_chars integer not null default 0,
    estimated_tokens integer not null default 0,
    redaction_count integer not null default 0,
    tool_uses jsonb,
    tool_results jsonb,
    _run_id text not null,
    _loaded_at timestamptz not null default now(),
    usage_source text,
    usage_at timestamptz,
    cost_usd numeric(12, 8),
    speed text,
    usage_countable boolean not null default false,
    -- The line's time, or for a line without one (a summary) when it was loaded: what
    -- retention goes by, and the partition key.
    _event_at timestamptz not null,
    primary key (file_path, line_number, _event_at)
) partition by range (_event_at);

-- Every model name the raw tables ever held (ingestion/prices/catalogue.py), and how far each
-- table was read for them (`_loaded_at`): the price catalogue is refreshed for these names.
create table if not exists raw.logged_model_names (
    model_name text primary key,
    first_seen_at timestamptz not null default now()
);
create table if not exists raw.model_name_reads (
    table_name text primary key,
    read_through timestamptz not null
);

-- Model prices from the maintained catalogue (ingestion/prices/catalogue.py, genai-prices), per
-- model name the sources logged: a row applies from `valid_from` until the model's next row.
-- Each refresh replaces the rows of the names it looked up; dbt's `model_prices` adds the
-- override and alias seeds.
create table if not exists raw.model_price_catalogue (
    model_name text not null,
    valid_from date not null,
    matched_provider text not null,
    matched_model text not null,
    input_per_mtok numeric,
    output_per_mtok numeric,
    cache_write_5m_per_mtok numeric,
    cache_write_1h_per_mtok numeric,
    cache_read_per_mtok numeric,
    tier_threshold_tokens bigint,
    input_above_per_mtok numeric,
    output_above_per_mtok numeric,
    cache_write_5m_above_per_mtok numeric,
    cache_write_1h_above_per_mtok numeric,
    cache_read_above_per_mtok numeric,
    catalogue text not null,
    resolved_at timestamptz not null default now(),
    primary key (model_name, valid_from)
);

-- Retention (the ops/retention asset): per run and table, the cutoff before which raw rows were
-- deleted (or, for transcripts, their text blanked). dbt treats days before the latest cutoff as
-- final (dbt_project/macros/retention.sql).
create table if not exists raw.retention_runs (
    run_id text not null,
    table_name text not null,
    cutoff timestamptz not null,
    rows_affected bigint not null,
    ran_at timestamptz not null default now(),
    primary key (run_id, table_name)
);

-- Downsampling (the ops/downsample asset), in the same shape: per run and detailed mart (one
-- row per session, billing block or anomaly), the cutoff before which it keeps no rows and the
-- rows deleted. Their `_daily` companions keep every day (dbt_project/macros/retention.sql).
create table if not exists raw.downsample_runs (like raw.retention_runs including all);

-- Columns added after a table's first release, each added only where missing (`add column if
-- not exists` would lock the table even when nothing changes), and filled for the rows already
-- there: when retention blanked a transcript message's text; what retention purged of a landed
-- file or a Claude Code log, and what was read of a log, for their reconciliation, and the
-- log's file status then.
do $$
declare
    addition record;
begin
    for addition in
        select * from (values
            ('collector_transcript_messages', 'content_purged_at', 'timestamptz', null),
            ('landed_files', 'rows_purged', 'bigint not null default 0',
             'update raw.landed_files as f set rows_purged = greatest(0, f.rows_read
                 - f.rows_quarantined - f.rows_skipped_duplicate
                 - (select count(*) from raw.landed_collector_events as e
                    where e.file_path = f.file_path)
                 - (select count(*) from raw.landed_metric_events as m
                    where m.file_path = f.file_path))'),
            ('claude_code_files', 'lines_read', 'bigint not null default 0',
             'update raw.claude_code_files as f set lines_read = (select count(*)
                 from raw.claude_code_lines as l where l.file_path = f.file_path)'),
            ('claude_code_files', 'lines_quarantined', 'bigint not null default 0', null),
            ('claude_code_files', 'lines_purged', 'bigint not null default 0', null),
            ('claude_code_files', 'responses_read', 'bigint not null default 0',
             'update raw.claude_code_files as f set responses_read = (select count(*)
                 from raw.claude_code_lines as l where l.file_path = f.file_path
                 and l.message_id is not null and l.input_tokens is not null)'),
            ('claude_code_files', 'responses_purged', 'bigint not null default 0', null),
            -- ingestion/claude_code/loader.py RULES_VERSION: logs read under older rules are re-read
            ('claude_code_files', 'rules_version', 'integer not null default 1', null),
            -- A log's modification time (ns) and inode when it was read, recorded once it had been
            -- still long enough: a log whose size, time and inode are unchanged is not read again
            -- (ingestion/claude_code/loader.py). Null: read it again next time.
            ('claude_code_files', 'modified_ns', 'bigint', null),
            ('claude_code_files', 'inode', 'bigint', null),
            -- A line's usage: its own message's, or (`progress`) the relayed subagent
            -- message's, at that message's time; the line's own costUSD and usage.speed; and
            -- whether ccusage's line filter reads it (ingestion/claude_code/loader.py).
            ('claude_code_lines', 'usage_source', 'text',
             'update raw.claude_code_lines set usage_source = ''message''
                 where input_tokens is not null'),
            ('claude_code_lines', 'usage_at', 'timestamptz', null),
            ('claude_code_lines', 'cost_usd', 'numeric(12, 8)', null),
            ('claude_code_lines', 'speed', 'text', null),
            ('claude_code_lines', 'usage_countable', 'boolean not null default false',
             'update raw.claude_code_lines set usage_countable = true
                 where input_tokens is not null and output_tokens is not null')
        ) as t (table_name, column_name, definition, fill)
    loop
        if not exists (
            select 1 from information_schema.columns
            where table_schema = 'raw' and table_name = addition.table_name
                and column_name = addition.column_name
        ) then
            execute format('alter table raw.%I add column %I ' || addition.definition,
                addition.table_name, addition.column_name);
            if addition.fill is not null then
                execute addition.fill;
            end if;
        end if;
    end loop;
end;
$$;

-- The collector's id watermark as each pull found it, with the collector's own clock: rows
-- with ids at or below the mark of a pull 26 h before the previous one can no longer change, so
-- every pull re-reads the ids above it (ingestion/collector/events.py).
-- With it, the oldest transaction still running when its snapshot was taken: what changed since
-- was written by that transaction or a later one.
create table if not exists raw.collector_pulls (
    run_id text not null,
    pulled_at timestamptz not null,
    high_id bigint not null,
    snapshot_xmin bigint,
    primary key (pulled_at, run_id)
);

-- Every comparison of the warehouse with a source (ingestion/core/reconciliation.py): per source and
-- scope (a UTC day of collector events, a landed file, a Claude Code log).
create table if not exists raw.reconciliation (
    reconciliation_id bigint generated always as identity primary key,
    run_id text not null,
    source text not null,
    scope text not null,
    source_rows bigint not null,
    warehouse_rows bigint not null,
    set_aside_rows bigint not null,
    source_tokens bigint,
    warehouse_tokens bigint,
    source_cost numeric,
    warehouse_cost numeric,
    checked_at timestamptz not null default now()
);
do $$
begin
    if to_regclass('raw.reconciliation_latest') is null then
        create index reconciliation_latest on raw.reconciliation
            (source, scope, checked_at desc, reconciliation_id desc);
    end if;
end;
$$;

-- When each source was last compared with the warehouse whole (every day inside retention, every
-- file): runs other than micro-batches compare whole when that is older than
-- ATW_RECONCILE_ALL_HOURS (a week), and otherwise what they read (ingestion/core/reconciliation.py).
create table if not exists raw.whole_reconciliations (
    source text primary key,
    run_id text not null,
    reconciled_at timestamptz not null
);

-- Monthly partitions of the raw event tables (and of dbt's calls fact, which calls these too):
-- retention drops a month wholly before its cutoff (warehouse/retention.py) instead of deleting
-- its rows one by one, which left the files bloated, and a read of some days prunes to their
-- months. `<table>_pYYYY_MM` holds one UTC month; `<table>_default` holds rows whose month has no
-- partition yet, until a load adds it (ingestion/core/partitions.py). A name another table holds
-- (dbt's full refresh swaps a new table in under the old one's name) gets the parent's oid
-- appended, until raw.name_partitions_after gives it the plain name.
--
-- A month is made as a table of its own, then attached: `create table ... partition of` would
-- lock the parent against every reader, attaching only against other DDL. The check constraint
-- spares the attach a scan of the new table; the default partition is scanned, and holds only
-- what one load brought for months without a partition. The partition key is a timestamptz
-- (months in UTC) or a date.
create or replace function raw.add_month_partition(parent regclass, time_column text, month date)
returns bigint
language plpgsql as $$
declare
    parent_schema text;
    parent_name text;
    is_date boolean;
    suffix text := 'p' || to_char(month, 'YYYY_MM');
    partition_name text;
    low text;
    high text;
    default_partition regclass;
    moved bigint := 0;
begin
    select n.nspname, c.relname into parent_schema, parent_name
    from pg_class as c join pg_namespace as n on n.oid = c.relnamespace
    where c.oid = parent;
    if exists (
        select 1 from pg_inherits as i join pg_class as c on c.oid = i.inhrelid
        where i.inhparent = parent and c.relname ~ ('_' || suffix || '(_[0-9]+)?$')
    ) then
        return 0;
    end if;
    select format_type(a.atttypid, a.atttypmod) = 'date' into is_date
    from pg_attribute as a where a.attrelid = parent and a.attname = time_column;
    low := to_char(month, 'YYYY-MM-DD') || case when is_date then '' else ' 00:00:00+00' end;
    high := to_char(month + interval '1 month', 'YYYY-MM-DD')
        || case when is_date then '' else ' 00:00:00+00' end;
    partition_name := parent_name || '_' || suffix;
    if to_regclass(format('%I.%I', parent_schema, partition_name)) is not null then
        partition_name := partition_name || '_' || parent::oid;
    end if;
    execute format('create table %I.%I (like %s including defaults)',
        parent_schema, partition_name, parent);
    execute format('alter table %I.%I add constraint %I check (%I >= %L and %I < %L)',
        parent_schema, partition_name, partition_name || '_bounds', time_column, low,
        time_column, high);
    select nullif(p.partdefid, 0)::regclass into default_partition
    from pg_partitioned_table as p where p.partrelid = parent;
    if default_partition is not null then
        execute format('with moved as (delete from %s where %I >= %L and %I < %L returning *) '
            'insert into %I.%I select * from moved',
            default_partition, time_column, low, time_column, high, parent_schema,
            partition_name);
        get diagnostics moved = row_count;
    end if;
    execute format('alter table %s attach partition %I.%I for values from (%L) to (%L)',
        parent, parent_schema, partition_name, low, high);
    execute format('alter table %I.%I drop constraint %I', parent_schema, partition_name,
        partition_name || '_bounds');
    return moved;
end;
$$;

-- The default partition if missing; partitions for the UTC months of `months` (any day of each)
-- and of the rows in the default partition. Returns how many rows left the default. A row whose
-- partition key is null stays in the default partition.
create or replace function raw.add_month_partitions(
    parent regclass, time_column text, months date[] default '{}'
) returns bigint
language plpgsql as $$
declare
    default_partition regclass;
    default_name text;
    month_of text;
    month date;
    moved bigint := 0;
begin
    perform pg_advisory_xact_lock(
        hashtext('raw.add_month_partitions'), hashtext(parent::oid::text));
    select nullif(p.partdefid, 0)::regclass into default_partition
    from pg_partitioned_table as p where p.partrelid = parent;
    if default_partition is null then
        select format('%I.%I', n.nspname, c.relname || '_default') into default_name
        from pg_class as c join pg_namespace as n on n.oid = c.relnamespace
        where c.oid = parent;
        if to_regclass(default_name) is not null then
            default_name := default_name || '_' || parent::oid;
        end if;
        execute format('create table %s partition of %s default', default_name, parent);
        default_partition := default_name::regclass;
    end if;
    month_of := case
        when (select format_type(a.atttypid, a.atttypmod) from pg_attribute as a
              where a.attrelid = parent and a.attname = time_column) = 'date'
            then format('date_trunc(''month'', %I::timestamp)::date', time_column)
        else format('date_trunc(''month'', %I at time zone ''UTC'')::date', time_column)
    end;
    for month in execute format(
        'select distinct %s from %s where %I is not null '
        'union select date_trunc(''month'', m::timestamp)::date from unnest($1) as m '
        'where m is not null order by 1',
        month_of, default_partition, time_column) using months
    loop
        moved := moved + raw.add_month_partition(parent, time_column, month);
    end loop;
    return moved;
end;
$$;

-- Partitions named after another table (made under dbt's temporary name, or given an oid to
-- avoid a name still taken) get their plain names, where free.
create or replace function raw.name_partitions_after(parent regclass)
returns void
language plpgsql as $$
declare
    part record;
    wanted text;
begin
    for part in
        select n.nspname, c.relname, c.relname ~ '_default(_[0-9]+)?$' as is_default,
            substring(c.relname from '_(p[0-9]{4}_[0-9]{2})(_[0-9]+)?$') as suffix,
            p.relname as parent_name
        from pg_inherits as i
        join pg_class as c on c.oid = i.inhrelid
        join pg_namespace as n on n.oid = c.relnamespace
        join pg_class as p on p.oid = i.inhparent
        where i.inhparent = parent
    loop
        wanted := part.parent_name || '_' || case when part.is_default then 'default'
            else part.suffix end;
        if part.relname <> wanted and (part.is_default or part.suffix is not null)
            and to_regclass(format('%I.%I', part.nspname, wanted)) is null then
            execute format('alter table %I.%I rename to %I', part.nspname, part.relname, wanted);
        end if;
    end loop;
end;
$$;

-- dbt partitions the calls fact with these (its role's functions are not public; roles.sql).
do $$
begin
    if exists (select 1 from pg_roles where rolname = 'atw_transformer') then
        grant execute on function raw.add_month_partition(regclass, text, date),
            raw.add_month_partitions(regclass, text, date[]),
            raw.name_partitions_after(regclass) to atw_transformer;
    end if;
end;
$$;

-- A table made before partitioning is moved into its partitioned successor once, rows and load
-- stamps as they were; the staging views that read the old table go with it (`cascade`), and
-- the next dbt run makes them again.
do $$
declare
    source record;
    old_name text;
    old_index record;
begin
    for source in
        select * from (values
            ('collector_events', 'created_at', 'source_id, created_at'),
            ('landed_collector_events', 'created_at', 'file_path, event_index, created_at'),
            ('landed_metric_events', 'occurred_at', 'event_id, occurred_at'),
            ('claude_code_lines', '_event_at', 'file_path, line_number, _event_at')
        ) as t (table_name, time_column, key_columns)
    loop
        old_name := source.table_name || '_unpartitioned';
        if (select relkind from pg_class
            where oid = format('raw.%I', source.table_name)::regclass) = 'r' then
            execute format('alter table raw.%I rename to %I', source.table_name, old_name);
            -- Filled without its triggers: this is no change for the incremental models.
            execute format('alter table raw.%I disable trigger user', old_name);
            if source.table_name = 'claude_code_lines' and not exists (
                select 1 from information_schema.columns
                where table_schema = 'raw' and table_name = old_name
                    and column_name = '_event_at'
            ) then
                execute format('alter table raw.%I add column _event_at timestamptz', old_name);
                execute format('update raw.%I set _event_at = coalesce(occurred_at, _loaded_at)',
                    old_name);
            end if;
            -- Their names are the new table's to take.
            for old_index in
                select i.indexrelid::regclass::text as index_name, c.conname
                from pg_index as i
                left join pg_constraint as c on c.conindid = i.indexrelid
                where i.indrelid = format('raw.%I', old_name)::regclass
            loop
                if old_index.conname is not null then
                    execute format('alter table raw.%I drop constraint %I', old_name,
                        old_index.conname);
                else
                    execute format('drop index %s', old_index.index_name);
                end if;
            end loop;
            execute format('create table raw.%I (like raw.%I including defaults, '
                'primary key (%s)) partition by range (%I)',
                source.table_name, old_name, source.key_columns, source.time_column);
        end if;
        if to_regclass(format('raw.%I', old_name)) is not null then
            execute format('select raw.add_month_partitions(%L::regclass, %L, array_agg(distinct '
                '(date_trunc(''month'', %I at time zone ''UTC''))::date)) from raw.%I',
                'raw.' || source.table_name, source.time_column, source.time_column, old_name);
            execute format('insert into raw.%I select * from raw.%I', source.table_name, old_name);
            execute format('drop table raw.%I cascade', old_name);
        elsif to_regclass(format('raw.%I', source.table_name || '_default')) is null then
            perform raw.add_month_partitions(format('raw.%I', source.table_name)::regclass,
                source.time_column);
        end if;
    end loop;
end;
$$;

-- Agent CLIs other than Claude Code (Codex, Gemini CLI, OpenCode, Copilot CLI) and OTLP file
-- exports: one row per file read (ingestion/agent_cli/loader.py). A file whose size,
-- modification time and inode are those recorded is not opened again; a changed file is read
-- again whole and its rows replaced, in one transaction with this row.
create table if not exists raw.agent_cli_files (
    agent_cli text not null,
    file_path text not null,
    file_kind text not null,
    size_bytes bigint not null,
    sha256 text not null,
    modified_ns bigint,
    inode bigint,
    records_read bigint not null,
    records_quarantined bigint not null,
    usage_rows_read bigint not null,
    tool_rows_read bigint not null,
    tokens_read numeric not null,
    rules_version integer not null,
    run_id text not null,
    processed_at timestamptz not null default now(),
    primary key (agent_cli, file_path)
);

-- One row per usage record, counted by ccusage 20.0.24's rules for its CLI
-- (ingestion/agent_cli/usage.py says what each column holds). Rules across files (Codex's
-- de-duplication and fork parents, OpenCode's database over files, Copilot's OTel spans a
-- shutdown covers) are applied by stg_agent_cli__usage.
create table if not exists raw.agent_cli_usage (
    agent_cli text not null,
    file_path text not null,
    record_key text not null,
    record_index integer not null,
    record_kind text not null,
    session_id text not null,
    thread_id text,
    forked_from_id text,
    message_id text,
    response_id text,
    trace_id text,
    project text,
    occurred_at timestamptz not null,
    model text,
    provider text,
    is_fallback_model boolean not null default false,
    input_tokens bigint not null default 0,
    output_tokens bigint not null default 0,
    cache_read_tokens bigint not null default 0,
    cache_creation_tokens bigint not null default 0,
    reasoning_tokens bigint not null default 0,
    extra_output_tokens bigint not null default 0,
    total_tokens bigint not null default 0,
    request_count integer not null default 1,
    logged_cost_usd numeric(12, 8),
    tier_rule text not null default 'model',
    tier_basis_tokens bigint,
    usage_ordinal integer,
    in_leading_burst boolean not null default false,
    is_replayed_turn boolean not null default false,
    dedup_key text,
    origin text,
    _run_id text not null,
    _loaded_at timestamptz not null default now(),
    primary key (agent_cli, file_path, record_key)
);
create index if not exists agent_cli_usage_thread on raw.agent_cli_usage (agent_cli, thread_id);
create index if not exists agent_cli_usage_fork on raw.agent_cli_usage (agent_cli, forked_from_id)
    where forked_from_id is not null;
create index if not exists agent_cli_usage_session on raw.agent_cli_usage (agent_cli, session_id);
create index if not exists agent_cli_usage_message on raw.agent_cli_usage (agent_cli, message_id)
    where message_id is not null;

-- Tool calls and API errors the same files report (Codex function calls, OTel execute_tool
-- spans, Claude Code's OTel tool results and API errors).
create table if not exists raw.agent_cli_tool_events (
    agent_cli text not null,
    file_path text not null,
    record_key text not null,
    session_id text not null,
    trace_id text,
    occurred_at timestamptz not null,
    tool_name text,
    is_error boolean not null default false,
    error_type text,
    duration_ms bigint,
    _run_id text not null,
    _loaded_at timestamptz not null default now(),
    primary key (agent_cli, file_path, record_key)
);

-- Incremental dbt models rebuild the UTC days whose raw rows changed since their last run. Inserts
-- carry `_loaded_at`; updates bump it; updates and deletes also log the days they took rows from
-- (a deleted row leaves nothing behind to carry a timestamp).
create table if not exists raw.changed_days (
    table_name text not null,
    day date not null,
    changed_at timestamptz not null default now()
);

-- TG_ARGV names the table's event-time columns: a Claude Code line is dated by its own time
-- and, for the usage a progress line relays, by the relayed message's (`usage_at`), which
-- can be the day before.
create or replace function raw.log_changed_days() returns trigger
language plpgsql as $$
declare
    time_column text;
begin
    foreach time_column in array tg_argv loop
        execute format(
            'insert into raw.changed_days (table_name, day) '
            'select distinct %L, (%I at time zone ''UTC'')::date from old_rows where %I is not null',
            tg_table_name, time_column, time_column);
    end loop;
    return null;
end;
$$;

create or replace function raw.bump_loaded_at() returns trigger
language plpgsql as $$
begin
    new._loaded_at := now();
    return new;
end;
$$;

-- Only what is missing is created: `create index if not exists` and `create or replace
-- trigger` lock their table even when nothing changes, and a loader setting up while another
-- one writes would deadlock with it.
do $$
declare
    source record;
    index_name text;
    trigger_arguments text;
begin
    for source in
        select * from (values
            ('collector_events', array['created_at']),
            ('landed_collector_events', array['created_at']),
            ('landed_metric_events', array['occurred_at']),
            ('claude_code_lines', array['occurred_at', 'usage_at']),
            ('agent_cli_usage', array['occurred_at']),
            ('agent_cli_tool_events', array['occurred_at'])
        ) as t (table_name, time_columns)
    loop
        -- BRIN: rows arrive roughly in time order, so block ranges answer "loaded since" and
        -- "this UTC day" almost as well as a btree, at a fraction of the load cost.
        foreach index_name in array array['_loaded_at'] || source.time_columns loop
            if to_regclass(format('raw.%I', source.table_name || '_' || ltrim(index_name, '_')
                    || '_brin')) is null then
                execute format('create index %I on raw.%I using brin (%I)',
                    source.table_name || '_' || ltrim(index_name, '_') || '_brin',
                    source.table_name, index_name);
            end if;
        end loop;
        select string_agg(format('%L', time_column), ', ') into trigger_arguments
        from unnest(source.time_columns) as time_column;
        -- A trigger from before a table had its second time column is made again.
        if exists (
            select 1 from pg_trigger
            where tgrelid = format('raw.%I', source.table_name)::regclass
                and tgname = 'log_deleted_days'
                and tgnargs <> cardinality(source.time_columns)
        ) then
            execute format('drop trigger if exists log_updated_days on raw.%I',
                source.table_name);
            execute format('drop trigger if exists log_deleted_days on raw.%I',
                source.table_name);
        end if;
        if not exists (
            select 1 from pg_trigger
            where tgrelid = format('raw.%I', source.table_name)::regclass
                and tgname = 'bump_loaded_at'
        ) then
            execute format('create trigger bump_loaded_at before update on raw.%I '
                'for each row execute function raw.bump_loaded_at()', source.table_name);
        end if;
        if not exists (
            select 1 from pg_trigger
            where tgrelid = format('raw.%I', source.table_name)::regclass
                and tgname = 'log_deleted_days'
        ) then
            execute format('create trigger log_updated_days after update on raw.%I '
                'referencing old table as old_rows for each statement '
                'execute function raw.log_changed_days(%s)', source.table_name,
                trigger_arguments);
            execute format('create trigger log_deleted_days after delete on raw.%I '
                'referencing old table as old_rows for each statement '
                'execute function raw.log_changed_days(%s)', source.table_name,
                trigger_arguments);
        end if;
    end loop;
end;
$$;

-- The Claude Code staging tables are incremental by message id and tool use id: a build reads
-- again the messages and tool uses of the lines written since it last ran (`_loaded_at`) and
-- of the lines removed since (a rewritten log, a purge), which leave only this behind. A
-- `whole` row (written when the log is made) says that removals before it were not logged:
-- the next build reads everything. retention.py logs the lines of the month partitions it
-- drops, and forgets what every staging table has read.
do $$
begin
    if to_regclass('raw.claude_code_removed_lines') is null then
        create table raw.claude_code_removed_lines (
            file_path text not null,
            line_number integer not null,
            message_id text,
            -- The ids of its tool_use blocks and of the tool uses its tool_result blocks answer.
            tool_ids text[] not null default '{}',
            -- It asked for a Task: the subagent lines after it in its log go by it.
            has_task boolean not null default false,
            whole boolean not null default false,
            removed_at timestamptz not null default now()
        );
        create index claude_code_removed_lines_removed_at on raw.claude_code_removed_lines
            (removed_at);
        insert into raw.claude_code_removed_lines (file_path, line_number, whole)
        values ('', 0, true);
    end if;
end;
$$;

-- The tool ids (raw.claude_code_removed_lines.tool_ids) of a line's tool_uses and tool_results.
create or replace function raw.claude_code_tool_ids(tool_uses jsonb, tool_results jsonb)
returns text[]
language sql immutable as $$
    select coalesce(array_agg(distinct id) filter (where id is not null), '{}')
    from (
        select block ->> 'id' as id
        from jsonb_array_elements(
            case when jsonb_typeof(tool_uses) = 'array' then tool_uses else '[]' end) as block
        union all
        select block ->> 'tool_use_id'
        from jsonb_array_elements(
            case when jsonb_typeof(tool_results) = 'array' then tool_results else '[]' end)
            as block
    ) as ids
$$;

create or replace function raw.claude_code_has_task(tool_uses jsonb) returns boolean
language sql immutable as $$
    select coalesce(jsonb_typeof(tool_uses) = 'array' and tool_uses @> '[{"name": "Task"}]',
        false)
$$;

create or replace function raw.log_removed_claude_code_lines() returns trigger
language plpgsql as $$
begin
    insert into raw.claude_code_removed_lines (file_path, line_number, message_id, tool_ids,
        has_task)
    select file_path, line_number, message_id, raw.claude_code_tool_ids(tool_uses, tool_results),
        raw.claude_code_has_task(tool_uses)
    from old_rows;
    return null;
end;
$$;

do $$
begin
    if not exists (
        select 1 from pg_trigger
        where tgrelid = 'raw.claude_code_lines'::regclass and tgname = 'log_removed_lines'
    ) then
        create trigger log_removed_lines after delete on raw.claude_code_lines
            referencing old table as old_rows for each statement
            execute function raw.log_removed_claude_code_lines();
        create trigger log_replaced_lines after update on raw.claude_code_lines
            referencing old table as old_rows for each statement
            execute function raw.log_removed_claude_code_lines();
    end if;
    -- The staging tables' lookups: every copy of a message, and the lines answering a tool use
    -- (its uses go by the GIN index on `tool_uses` below).
    if to_regclass('raw.claude_code_lines_message_id') is null then
        create index claude_code_lines_message_id on raw.claude_code_lines (message_id);
    end if;
    if to_regclass('raw.claude_code_lines_tool_results_gin') is null then
        create index claude_code_lines_tool_results_gin on raw.claude_code_lines
            using gin (tool_results jsonb_path_ops);
    end if;
    -- dbt finds the changed lines' messages and tool uses with them (roles.sql).
    if exists (select 1 from pg_roles where rolname = 'atw_transformer') then
        grant execute on function raw.claude_code_tool_ids(jsonb, jsonb),
            raw.claude_code_has_task(jsonb) to atw_transformer;
    end if;
end;
$$;

-- Alert acknowledgements: written by `atw ack`, read by dbt as a source, never rebuilt by it.
create schema if not exists ops;
create table if not exists ops.alert_acknowledgements (
    alert_id text primary key,
    acknowledged_by text not null check (acknowledged_by <> ''),
    acknowledged_at timestamptz not null default now(),
    note text
);

-- Every GX validation result, one row per expectation evaluated, written by the Dagster checks.
create table if not exists ops.dq_validation_results (
    result_id bigint generated always as identity primary key,
    run_id text not null,
    suite text not null,
    check_name text not null,
    stage text not null,
    table_name text not null,
    severity text not null check (severity in ('blocking', 'warning')),
    expectation text not null,
    column_name text,
    description text,
    success boolean not null,
    observed_value jsonb,
    failing_keys jsonb not null default '[]',
    validated_at timestamptz not null default now()
);
-- Only when missing: `create index if not exists` still locks the table (see the BRIN block).
do $$
begin
    if to_regclass('ops.dq_validation_results_validated_at') is null then
        create index dq_validation_results_validated_at on ops.dq_validation_results
            (validated_at);
    end if;
end;
$$;

-- The tool uses of Claude Code lines, by id (`tool_uses @> '[{"id": ...}]'`): the calls fact
-- finds the response a late tool result answers through it (macros/incremental_days.sql).
do $$
begin
    if to_regclass('raw.claude_code_lines_tool_uses_gin') is null then
        create index claude_code_lines_tool_uses_gin on raw.claude_code_lines
            using gin (tool_uses jsonb_path_ops);
    end if;
end;
$$;

-- The transcripts' load stamps: the sessions whose transcripts a run loaded, and the checks'
-- windows, are found through them (a scan of 2 M messages at 5 M events otherwise). BRIN, as
-- for the event tables: rows arrive in load order.
do $$
declare
    table_name text;
begin
    foreach table_name in array array['collector_session_transcripts',
            'collector_transcript_messages'] loop
        if to_regclass(format('raw.%I', table_name || '_loaded_at_brin')) is null then
            execute format('create index %I on raw.%I using brin (_loaded_at)',
                table_name || '_loaded_at_brin', table_name);
        end if;
    end loop;
end;
$$;

-- A time before which every row stamped with its transaction's start (`_loaded_at`,
-- `changed_at`) is already visible: now, or the start of the oldest transaction open in this
-- database, which may still commit rows stamped earlier. Never earlier than `margin` ago (a
-- session idle in a transaction for hours must not widen every window), and exactly `margin`
-- ago when another login's session is open that this role cannot see into (without
-- pg_read_all_stats, its backend type and transaction start read null; only the login shows).
-- A session of a login it can see whose state is null is still starting (a second dbt thread
-- connecting) and has no transaction yet: taking it for a hidden one made a whole build read
-- back `margin` hours, while a hidden one was never found.
create or replace function raw.write_horizon(margin interval) returns timestamptz
language sql stable as $$
    select case
        when not pg_has_role('pg_read_all_stats', 'usage') and exists (
            select 1 from pg_stat_activity
            where datname = current_database() and pid <> pg_backend_pid()
                and coalesce(backend_type, 'client backend') = 'client backend'
                and not pg_has_role(usesysid, 'usage')
        ) then now() - margin
        else greatest(now() - margin, least(now(), (
            select min(xact_start) from pg_stat_activity
            where datname = current_database() and pid <> pg_backend_pid()
                and backend_type = 'client backend'
        )))
    end
$$;

-- Per check, the start of its last passing validation: a run validates the rows written since
-- (expectations/windows.py).
create table if not exists ops.dq_watermarks (
    check_name text primary key,
    passed_from timestamptz not null,
    scope text not null check (scope in ('window', 'table')),
    updated_at timestamptz not null default now()
);

-- Per dbt step, its last complete build in a routine run: the write horizon it took and the
-- fingerprint of what else it read. A run with nothing new since does not start dbt for the
-- step (orchestration/defs/dbt/step_inputs.py).
create table if not exists ops.dbt_step_builds (
    step_name text primary key,
    horizon timestamptz not null,
    fingerprint text not null,
    built_at timestamptz not null default now()
);

-- Alerts already sent to the webhook, so each is notified once.
create table if not exists ops.alert_notifications (
    alert_id text primary key,
    notified_at timestamptz not null default now(),
    run_id text
);

