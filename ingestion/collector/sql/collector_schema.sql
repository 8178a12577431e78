-- The agent-telemetry collector's schema (db/init.sql of the collector), reproduced for the
-- sample collector database. Column types, nullability and defaults match the real collector.
create table if not exists telemetry_events (
    id bigserial primary key,
    host_id varchar(64) not null,
    session_id varchar(255) not null,
    event_type varchar(32) not null,
    agent_name varchar(64) not null,
    hook_name varchar(64) not null,
    mode varchar(16) not null,
    execution_type varchar(16) not null,
    decision varchar(32) not null,
    decision_reason text,
    tool_name varchar(64) not null,
    working_dir varchar(512) not null,
    latency_ms integer not null,
    model_tier varchar(16),
    model_name varchar(128),
    success boolean not null default true,
    error_count integer not null default 0,
    extra_data jsonb,
    created_at timestamptz not null default now(),
    prompt_tokens integer,
    completion_tokens integer,
    total_tokens integer,
    cached_tokens integer,
    reasoning_tokens integer,
    cost decimal(12, 8),
    client_version varchar(20),
    generation_id varchar(512),
    cost_fetch_retries integer default 0
);

create index if not exists idx_events_host_id on telemetry_events (host_id);
create index if not exists idx_events_session_id on telemetry_events (session_id);
create index if not exists idx_events_created_at on telemetry_events (created_at);
create index if not exists idx_events_pending_cost on telemetry_events (generation_id, created_at)
    where generation_id is not null and cost is null
        and (cost_fetch_retries is null or cost_fetch_retries < 3);

create table if not exists session_transcripts (
    id bigserial primary key,
    host_id varchar(64) not null,
    session_id varchar(255) not null,
    transcript_data jsonb not null,
    message_counts jsonb,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint unique_session unique (session_id)
);

create index if not exists idx_transcripts_host on session_transcripts (host_id);
create index if not exists idx_transcripts_created on session_transcripts (created_at);
