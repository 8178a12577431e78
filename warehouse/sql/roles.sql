-- Roles and grants of the warehouse (`atw roles`). Idempotent: run it again after restoring a
-- dump or after objects were created by another login, and ownership and grants are put back.
--
--   atw_loader       owns raw and ops: the loaders, load log, quarantine, check results.
--   atw_transformer  owns staging, intermediate, marts and reference: dbt runs as this role.
--   analyst          reads the marts and calls their SQL functions; nothing in raw, staging,
--                    intermediate or ops except the alert acknowledgements the inbox shows.
--
-- None of them can log in. Logins are granted them: the pipeline's login gets the first two,
-- each analyst login (`atw roles --analyst NAME`) the third.

-- Function bodies may name marts that the first dbt build has not created yet.
set check_function_bodies = off;

do $$
declare
    name text;
begin
    foreach name in array array['atw_loader', 'atw_transformer', 'analyst'] loop
        if not exists (select 1 from pg_roles where rolname = name) then
            begin
                execute format('create role %I nologin', name);
            exception when duplicate_object then
                -- Roles are the server's: `atw roles` in another database made it meanwhile.
                null;
            end;
        end if;
    end loop;
    -- The login running this (the pipeline's) acts as both pipeline roles.
    -- `create schema if not exists` asks for the right even when the schema is there.
    execute format('grant create on database %I to atw_loader, atw_transformer',
                   current_database());
    if not (select rolsuper from pg_roles where rolname = current_user) then
        execute format('grant atw_loader, atw_transformer to %I', current_user);
    end if;
end
$$;

create schema if not exists raw;
create schema if not exists ops;
create schema if not exists staging;
create schema if not exists intermediate;
create schema if not exists marts;
create schema if not exists reference;

-- Who may see which tenants' rows of the marts when row-level security is on.
create table if not exists ops.access_settings (
    setting text primary key,
    enabled boolean not null,
    changed_at timestamptz not null default now()
);
insert into ops.access_settings (setting, enabled)
values ('row_level_security', false)
on conflict (setting) do nothing;

create table if not exists ops.analyst_tenants (
    role_name text not null,
    tenant_id text not null,
    granted_at timestamptz not null default now(),
    primary key (role_name, tenant_id)
);

-- Everything in a schema belongs to the schema's role, whoever created it.
do $$
declare
    owners constant text[][] := array[
        ['raw', 'atw_loader'], ['ops', 'atw_loader'],
        ['staging', 'atw_transformer'], ['intermediate', 'atw_transformer'],
        ['marts', 'atw_transformer'], ['reference', 'atw_transformer']];
    pair text[];
    object record;
begin
    foreach pair slice 1 in array owners loop
        execute format('alter schema %I owner to %I', pair[1], pair[2]);
        for object in
            select c.relname,
                case c.relkind when 'v' then 'view' when 'm' then 'materialized view'
                    when 'S' then 'sequence' else 'table' end as kind
            from pg_class as c
            join pg_namespace as n on n.oid = c.relnamespace
            where n.nspname = pair[1] and c.relkind in ('r', 'p', 'v', 'm', 'S')
                and pg_get_userbyid(c.relowner) <> pair[2]
                -- A sequence owned by a column follows its table.
                and not exists (select 1 from pg_depend as d where d.objid = c.oid
                                and d.deptype in ('a', 'i') and c.relkind = 'S')
        loop
            execute format('alter %s %I.%I owner to %I',
                           object.kind, pair[1], object.relname, pair[2]);
        end loop;
        for object in
            select p.oid::regprocedure as signature
            from pg_proc as p
            join pg_namespace as n on n.oid = p.pronamespace
            where n.nspname = pair[1] and pg_get_userbyid(p.proowner) <> pair[2]
        loop
            execute format('alter function %s owner to %I', object.signature, pair[2]);
        end loop;
    end loop;
end
$$;

-- Nobody else reaches into the pipeline's schemas.
revoke all on schema raw, ops, staging, intermediate, marts, reference from public;

-- dbt reads raw and ops (sources) and the reference seeds.
grant usage on schema raw, ops to atw_transformer;
grant select on all tables in schema raw, ops to atw_transformer;
alter default privileges for role atw_loader in schema raw grant select on tables to atw_transformer;
alter default privileges for role atw_loader in schema ops grant select on tables to atw_transformer;
-- The incremental models take the write horizon to choose what to rebuild (their watermark).
grant execute on function raw.write_horizon(interval) to atw_transformer;
-- ... which needs the other sessions' transaction starts: without pg_read_all_stats the role
-- sees none of another login's, and while one is open every horizon falls back to its margin
-- (6 h ago), so each build and its tests read six hours again. It also shows other sessions' query texts to dbt, the pipeline's own
-- code. Granting it needs a superuser or its admin option: without either, the margin it is.
do $$
begin
    grant pg_read_all_stats to atw_transformer;
exception when insufficient_privilege then
    raise notice 'pg_read_all_stats not granted to atw_transformer: horizons fall back to their margin';
end
$$;
-- ... and partition the calls fact by month with the raw tables' functions.
grant execute on function raw.add_month_partition(regclass, text, date),
    raw.add_month_partitions(regclass, text, date[]),
    raw.name_partitions_after(regclass) to atw_transformer;
-- ... and find the tool uses and Task calls of Claude Code lines as their removal log does.
grant execute on function raw.claude_code_tool_ids(jsonb, jsonb),
    raw.claude_code_has_task(jsonb) to atw_transformer;
-- ... except the key that fingerprints redacted identifiers: only the loaders use it.
revoke all on raw.redaction_key from atw_transformer;

-- Analysts: the marts and their functions.
grant usage on schema marts to analyst;
grant select on all tables in schema marts to analyst;
grant execute on all functions in schema marts to analyst;
alter default privileges for role atw_transformer in schema marts
    grant select on tables to analyst;
alter default privileges for role atw_transformer in schema marts
    grant execute on functions to analyst;
-- Functions anywhere else stay the owner's.
alter default privileges for role atw_transformer revoke execute on functions from public;
alter default privileges for role atw_loader revoke execute on functions from public;

-- marts.alert_inbox is a live view over the acknowledgements: analysts read that one ops table,
-- and row-level security below limits it to alerts they can see.
grant usage on schema ops to analyst;
grant select on ops.alert_acknowledgements to analyst;

-- Row-level security. The marts' post-hook (ops.apply_row_security) enables it on every mart
-- table: the pipeline's roles see every row; an analyst sees every row while
-- ops.access_settings.row_level_security is off, and only its tenants' rows while it is on.
-- Rows without a tenant (Claude Code's local logs, cross-tenant dimensions) are then hidden.
create or replace function marts.sees_all_tenants()
returns boolean
language sql stable security definer
set search_path = pg_catalog, pg_temp
as $fn$
    select not coalesce(
        (select enabled from ops.access_settings where setting = 'row_level_security'), false)
$fn$;

-- session_user, not current_user: inside a security-definer function current_user is the
-- owner. A tenant granted to a group role reaches every login in it.
create or replace function marts.current_tenants()
returns text[]
language sql stable security definer
set search_path = pg_catalog, pg_temp
as $fn$
    select coalesce(array_agg(distinct t.tenant_id order by t.tenant_id), '{}')
    from ops.analyst_tenants as t
    join pg_roles as r on r.rolname = t.role_name
    where pg_has_role(session_user, r.oid, 'member')
$fn$;

alter function marts.sees_all_tenants() owner to atw_transformer;
alter function marts.current_tenants() owner to atw_transformer;
grant execute on function marts.sees_all_tenants(), marts.current_tenants() to analyst;

create or replace function ops.apply_row_security(target regclass)
returns void
language plpgsql
set search_path = pg_catalog, pg_temp
as $fn$
declare
    has_tenant boolean;
    scope text;
begin
    select exists (
        select 1 from pg_attribute
        where attrelid = target and attname = 'tenant_id' and not attisdropped
    ) into has_tenant;
    scope := case when has_tenant
        then '(select marts.sees_all_tenants()) or tenant_id = any ((select marts.current_tenants())::text[])'
        else '(select marts.sees_all_tenants())' end;
    execute format('alter table %s enable row level security', target);
    execute format('drop policy if exists pipeline_all_rows on %s', target);
    execute format('create policy pipeline_all_rows on %s to atw_loader, atw_transformer '
                   'using (true) with check (true)', target);
    execute format('drop policy if exists analyst_tenant_rows on %s', target);
    execute format('create policy analyst_tenant_rows on %s for select to analyst using (%s)',
                   target, scope);
end
$fn$;
alter function ops.apply_row_security(regclass) owner to atw_transformer;
revoke execute on function ops.apply_row_security(regclass) from public;
grant execute on function ops.apply_row_security(regclass) to atw_transformer;

do $$
declare
    mart regclass;
begin
    for mart in
        select c.oid::regclass from pg_class as c
        join pg_namespace as n on n.oid = c.relnamespace
        where n.nspname = 'marts' and c.relkind in ('r', 'p')
    loop
        perform ops.apply_row_security(mart);
    end loop;
end
$$;

-- Acknowledgements follow the alerts: a row is visible when its alert is. The check runs with
-- the reader's rights, so the alerts' own policy applies; a function rather than a subquery in
-- the policy, because rebuilding fct_alerts would drop a policy that names it.
create or replace function marts.alert_is_visible(p_alert_id text)
returns boolean
language sql stable
set search_path = pg_catalog, pg_temp
as $fn$
    select exists (select 1 from marts.fct_alerts where alert_id = p_alert_id)
$fn$;
alter function marts.alert_is_visible(text) owner to atw_transformer;
grant execute on function marts.alert_is_visible(text) to analyst;

alter table ops.alert_acknowledgements enable row level security;
drop policy if exists pipeline_all_rows on ops.alert_acknowledgements;
create policy pipeline_all_rows on ops.alert_acknowledgements to atw_loader, atw_transformer
    using (true) with check (true);
drop policy if exists analyst_visible_alerts on ops.alert_acknowledgements;
create policy analyst_visible_alerts on ops.alert_acknowledgements for select to analyst
    using (marts.alert_is_visible(alert_id));
