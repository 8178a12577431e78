"""Sensors: the micro-batch path, and notifications of failed runs and new alerts."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import dagster as dg
import psycopg

from ingestion.core import settings
from ingestion.core.connections import connect
from orchestration.defs.automation import source_changes
from orchestration.defs.prices.assets import PRICE_CATALOGUE
from orchestration.defs.retention.assets import DOWNSAMPLE, RETENTION
from orchestration.lib.resources import TelemetryDatabases
from orchestration.lib.webhook import post_json, webhook_url

MICRO_BATCH_TAG = "atw/trigger"
ALERTS = dg.AssetKey(["marts", "fct_alerts"])
MONITORING = {
    ALERTS,
    dg.AssetKey(["intermediate", "int_anomalies"]),
    dg.AssetKey(["marts", "fct_anomalies"]),
    dg.AssetKey(["marts", "fct_anomalies_daily"]),
    dg.AssetKey(["marts", "fct_recommendations"]),
    dg.AssetKey(["marts", "alert_inbox"]),
}
# The marts a micro-batch keeps within a minute of the sources: sessions, and the day's tokens
# and cost. What they read is built in every micro-batch; the rest of what changed (the other
# marts and the report) at most every ATW_MARTS_REFRESH_SECONDS: at 5 M events of history that
# is half a micro-batch, and the freshness target is the sessions'.
LIVE = {
    dg.AssetKey(["marts", "fct_session_summaries"]),
    dg.AssetKey(["marts", "fct_daily_token_trends"]),
}
# The blocking checks of the sessions look their hosts and models up in these dimensions
# (expectations/suites.py): a new host must be there in the same run.
LIVE_LOOKUPS = {
    dg.AssetKey(["marts", "dim_hosts"]),
    dg.AssetKey(["marts", "dim_models"]),
}
ALERTS_LISTED = 50


def _interval() -> int:
    return settings.integer("ATW_MICRO_BATCH_INTERVAL_SECONDS", 1)


def _micro_batch_waiting(instance: dg.DagsterInstance) -> bool:
    """A micro-batch run already queued will pick up what is new when it starts."""
    runs = instance.get_runs(
        filters=dg.RunsFilter(
            tags={MICRO_BATCH_TAG: "micro_batch"},
            statuses=[
                dg.DagsterRunStatus.QUEUED,
                dg.DagsterRunStatus.NOT_STARTED,
                dg.DagsterRunStatus.STARTING,
            ],
        ),
        limit=1,
    )
    return bool(runs)


def _monitoring_interval() -> float:
    return settings.number("ATW_MONITORING_REFRESH_SECONDS")


def _skipped(
    key: dg.AssetKey, monitoring_due: bool, staging_missing: bool = False, asset_graph=None
) -> bool:
    # Staging views read raw as it is: new rows need no view rebuilt (the translator's raw
    # edges keep each load before the models reading it). Their suites run in the nightly run.
    # A staging table (the Claude Code responses and tool calls) is rebuilt like a model.
    if key.path[0] == "staging":
        is_view = (
            asset_graph is None
            or asset_graph.get(key).metadata.get("dagster-dbt/materialization_type", "view")
            == "view"
        )
        return is_view and not staging_missing
    # Retention and downsampling are the nightly run's: nothing new ever makes rows old.
    if key in (RETENTION, DOWNSAMPLE):
        return True
    return not monitoring_due and key in MONITORING


def _downstream(keys: set[dg.AssetKey], asset_graph) -> set[dg.AssetKey]:
    """`keys` and everything downstream of them, except through the price catalogue: every
    source feeds it, so through it a new collector row would rebuild the Claude Code models.
    Prices are looked up by the nightly run and `atw run`; until then a new model's calls are
    unpriced (counted as such)."""
    seen, queue = set(keys), list(keys)
    while queue:
        for child in asset_graph.get(queue.pop()).child_keys:
            if child not in seen and child != PRICE_CATALOGUE:
                seen.add(child)
                queue.append(child)
    return seen


def marts_due(instance: dg.DagsterInstance, now: datetime, keys: set[dg.AssetKey]) -> bool:
    """Whether one of `keys` (marts off the live path) was built longer than
    ATW_MARTS_REFRESH_SECONDS ago, or never: then a micro-batch rebuilds them all."""
    interval = settings.number("ATW_MARTS_REFRESH_SECONDS")
    latest = instance.get_latest_materialization_events(list(keys))
    return any(
        latest.get(key) is None or now.timestamp() - latest[key].timestamp >= interval
        for key in keys
    )


def monitoring_due(instance: dg.DagsterInstance, now: datetime) -> bool:
    """Alerts, anomalies and recommendations are rebuilt at most every
    ATW_MONITORING_REFRESH_SECONDS by micro-batches: a dbt step less in most runs."""
    latest = instance.get_latest_materialization_event(ALERTS)
    return latest is None or now.timestamp() - latest.timestamp >= _monitoring_interval()


def staging_views_missing(warehouse_url: str, asset_graph) -> bool:
    """Whether a staging view the project builds is missing from the warehouse. The upgrade
    that partitions a raw table drops the views that read it (ingestion/core/sql/
    raw_schema.sql), and the first load after it may be a micro-batch's. False when the
    warehouse cannot be asked: the run then goes as usual."""
    views = [
        f"staging.{key.path[-1]}"
        for key in asset_graph.get_all_asset_keys()
        if key.path[0] == "staging"
    ]
    try:
        with connect(warehouse_url) as conn:
            return conn.execute(
                "select exists (select 1 from unnest(%s::text[]) as v "
                "where to_regclass(v) is null)",
                (views,),
            ).fetchone()[0]
    except psycopg.Error:
        return False


def micro_batch_plan(
    previous: dict | None,
    current: dict,
    asset_graph,
    now: datetime,
    with_monitoring: bool = True,
    staging_missing: bool = False,
    marts_are_due=lambda keys: True,
    pending: frozenset[dg.AssetKey] = frozenset(),
) -> tuple[dg.RunRequest | None, set[dg.AssetKey]]:
    """A run of the changed sources and what is downstream of them (see `_skipped`), for
    today's partition; with `staging_missing`, the staging views downstream of them too. Off
    the path to the LIVE marts (and the dimensions their checks look up), what is downstream
    waits unless `marts_are_due` (given those assets) says otherwise; the monitoring marts
    follow `with_monitoring`. What waits is returned, and given back as `pending` at the next
    look: it joins a later run, with new data or without. Incremental models read what
    changed since their own last build, so a mart left out catches up whole when it is next
    built. The first look only records the state: the nightly run covers what came before."""
    if previous is None:
        return None, set(pending)
    keys = source_changes.changed(previous, current)
    sources: set[dg.AssetKey] = set()
    if keys:
        # A loader that writes two tables is one step: both of its assets, or neither.
        sources = (
            dg.AssetSelection.assets(*(dg.AssetKey.from_user_string(k) for k in keys))
            .required_multi_asset_neighbors()
            .resolve(asset_graph)
        )
    reached = (_downstream(sources, asset_graph) | set(pending)) & asset_graph.get_all_asset_keys()
    wanted = {key for key in reached if not _skipped(key, True, staging_missing, asset_graph)}
    affected = {key for key in wanted if with_monitoring or key not in MONITORING}
    roots = LIVE | LIVE_LOOKUPS | (MONITORING if with_monitoring else set())
    deferred = affected - dg.AssetSelection.assets(*roots).upstream().resolve(asset_graph) - sources
    if deferred and not marts_are_due(deferred):
        affected -= deferred
    waiting = wanted - affected
    if not affected:
        return None, waiting
    checks = {
        check
        for check in dg.AssetSelection.assets(*affected).resolve_checks(asset_graph)
        if check.asset_key in affected
    }
    request = dg.RunRequest(
        asset_selection=sorted(affected, key=lambda k: k.to_user_string()),
        asset_check_keys=sorted(checks, key=lambda k: (k.asset_key.to_user_string(), k.name)),
        partition_key=now.strftime("%Y-%m-%d"),
        tags={MICRO_BATCH_TAG: "micro_batch", "atw/changed": ",".join(keys) or "deferred marts"},
    )
    return request, waiting


def micro_batch_request(*args, **kwargs) -> dg.RunRequest | None:
    """The run of `micro_batch_plan`, without what waits."""
    return micro_batch_plan(*args, **kwargs)[0]


PENDING = "__deferred__"


def _still_pending(instance: dg.DagsterInstance, deferred: dict[str, float]) -> set[dg.AssetKey]:
    """The assets deferred by earlier looks (key → when) that no run has built since."""
    if not deferred:  # most looks: no event-log query every second
        return set()
    keys = {dg.AssetKey.from_user_string(key): at for key, at in deferred.items()}
    latest = instance.get_latest_materialization_events(list(keys))
    return {
        key for key, at in keys.items() if latest.get(key) is None or latest[key].timestamp < at
    }


# The daemon may evaluate the sensor this often; ATW_MICRO_BATCH_INTERVAL_SECONDS (read at each
# evaluation, not when the definitions load) spaces the real work further apart.
FASTEST_INTERVAL_SECONDS = 1


@dg.sensor(
    name="micro_batch",
    job_name="micro_batch",
    minimum_interval_seconds=FASTEST_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Runs only what new collector rows or new/grown files affect, for today's "
    "partition, so events reach the session summaries and daily token trends within a minute; "
    "the other marts follow every ATW_MARTS_REFRESH_SECONDS.",
)
def micro_batch_sensor(context: dg.SensorEvaluationContext, databases: TelemetryDatabases):
    last = context.last_tick_completion_time
    if last is not None and datetime.now(UTC).timestamp() - last < _interval():
        return dg.SkipReason(
            f"less than ATW_MICRO_BATCH_INTERVAL_SECONDS ({_interval()} s) since the last look"
        )
    current = source_changes.probe(databases.urls().collector)
    previous = json.loads(context.cursor) if context.cursor else None
    if previous is not None and _micro_batch_waiting(context.instance):
        return dg.SkipReason("a micro-batch run is already queued")
    deferred = (previous or {}).pop(PENDING, {})
    now = datetime.now(UTC)
    graph = context.repository_def.asset_graph
    request, waiting = micro_batch_plan(
        previous,
        current,
        graph,
        now,
        with_monitoring=monitoring_due(context.instance, now),
        marts_are_due=lambda keys: marts_due(context.instance, now, keys),
        staging_missing=previous is not None
        and bool(source_changes.changed(previous, current))
        and staging_views_missing(databases.urls().warehouse, graph),
        pending=frozenset(_still_pending(context.instance, deferred)),
    )
    since = {
        key.to_user_string(): deferred.get(key.to_user_string(), now.timestamp()) for key in waiting
    }
    context.update_cursor(json.dumps({**current, PENDING: since}))
    if request is None:
        return dg.SkipReason("no new collector rows or files, and no deferred mart due")
    return request


@dg.run_failure_sensor(
    name="notify_run_failure",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="POSTs every failed run to ATW_WEBHOOK_URL (nothing when it is unset).",
)
def run_failure_sensor(context: dg.RunFailureSensorContext):
    url = webhook_url()
    if url is None:
        return dg.SkipReason("ATW_WEBHOOK_URL is not set")
    run = context.dagster_run
    post_json(
        url,
        {
            "event": "run_failure",
            "run_id": run.run_id,
            "job": run.job_name,
            "partition": run.tags.get("dagster/partition"),
            "message": context.failure_event.message,
            "failed_steps": [event.step_key for event in context.get_step_failure_events()],
        },
    )
    return None


def pending_alerts(conn) -> list[dict]:
    rows = conn.execute(
        """
        select a.alert_id, a.alert_type, a.severity, a.tenant_id, a.agent_name, a.session_key,
            a.observed_value, a.threshold, a.triggered_at
        from marts.fct_alerts as a
        where not exists (
            select 1 from ops.alert_notifications as n where n.alert_id = a.alert_id)
        order by a.triggered_at, a.alert_id
        """
    ).fetchall()
    columns = (
        "alert_id",
        "alert_type",
        "severity",
        "tenant_id",
        "agent_name",
        "session_key",
        "observed_value",
        "threshold",
        "triggered_at",
    )
    return [dict(zip(columns, row, strict=True)) for row in rows]


def notify_new_alerts(warehouse_url: str, url: str, run_id: str | None) -> int:
    """POST the alerts not yet notified, then remember them; returns how many were sent."""
    with connect(warehouse_url) as conn:
        if conn.execute("select to_regclass('marts.fct_alerts')").fetchone()[0] is None:
            return 0
        alerts = pending_alerts(conn)
        if not alerts:
            return 0
        post_json(
            url,
            {
                "event": "new_alerts",
                "count": len(alerts),
                "alerts": alerts[:ALERTS_LISTED],
                "more": max(0, len(alerts) - ALERTS_LISTED),
            },
        )
        # Only after the webhook accepted them: a failed POST is retried on the next tick.
        with conn.cursor() as cursor:
            cursor.executemany(
                "insert into ops.alert_notifications (alert_id, run_id) values (%s, %s) "
                "on conflict do nothing",
                [(alert["alert_id"], run_id) for alert in alerts],
            )
    return len(alerts)


@dg.asset_sensor(
    asset_key=ALERTS,
    name="notify_new_alerts",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="After fct_alerts is rebuilt, POSTs its new alerts to ATW_WEBHOOK_URL.",
)
def alert_sensor(context: dg.SensorEvaluationContext, asset_event, databases: TelemetryDatabases):
    url = webhook_url()
    if url is None:
        return dg.SkipReason("ATW_WEBHOOK_URL is not set")
    sent = notify_new_alerts(databases.urls().warehouse, url, asset_event.run_id)
    return dg.SkipReason(f"notified {sent} new alert(s)")


SENSORS = [micro_batch_sensor, run_failure_sensor, alert_sensor]
