"""The collector's background cost worker, simulated in SQL.

Like the real worker, it picks rows with a `generation_id` and no `cost`, fetches the provider's
native token counts, and overwrites prompt/completion/cached/reasoning tokens (not
`total_tokens`) and `cost`. The "provider" here is a deterministic function of the generation id,
so retried duplicates of one event settle to identical numbers. One generation in 50 never
resolves: its `cost_fetch_retries` reaches 3 and `cost` stays null.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from devtools.sample_data.catalog import MODEL_PRICES

# The catalogue's prices as bind parameters: numeric, exactly as the floats print.
_PRICES = {
    f"price_{part}": [Decimal(str(prices[index])) for prices in MODEL_PRICES.values()]
    for index, part in enumerate(("in", "out", "cached"))
} | {"price_models": list(MODEL_PRICES)}

_SETTLE = """
with prices (model_name, p_in, p_out, p_cached) as (
    select * from unnest(%(price_models)s::text[], %(price_in)s::numeric[],
        %(price_out)s::numeric[], %(price_cached)s::numeric[])
),
native as (
    select
        e.id,
        greatest(0, e.prompt_tokens + (abs(hashtext(e.generation_id)) %% 41) - 20) as prompt,
        greatest(0, e.completion_tokens + (abs(hashtext(e.generation_id || 'c')) %% 9) - 4)
            as completion,
        e.cached_tokens as cached,
        coalesce(e.reasoning_tokens, 0) as reasoning,
        p.p_in, p.p_out, p.p_cached
    from telemetry_events as e
    inner join prices as p on p.model_name = e.model_name
    where e.generation_id is not null
        and e.cost is null
        and coalesce(e.cost_fetch_retries, 0) < 3
        and abs(hashtext(e.generation_id)) %% 50 <> 0
        and e.created_at <= %(now)s
        and e.created_at > %(since)s
)
update telemetry_events as e
set
    prompt_tokens = n.prompt,
    completion_tokens = n.completion,
    cached_tokens = n.cached,
    reasoning_tokens = n.reasoning,
    cost = round(
        ((n.prompt - least(n.cached, n.prompt)) * n.p_in + least(n.cached, n.prompt) * n.p_cached
         + n.completion * n.p_out) / 1e6, 8)
from native as n
where e.id = n.id
"""

_GIVE_UP = """
update telemetry_events
set cost_fetch_retries = 3
where generation_id is not null
    and cost is null
    and abs(hashtext(generation_id)) %% 50 = 0
    and created_at <= %(now)s
    and created_at > %(since)s
"""


def run_cost_worker(conn, now: datetime, window: timedelta = timedelta(hours=24)) -> int:
    """One pass of the worker: settles pending rows created in the 24 h before `now`."""
    params = {"now": now, "since": now - window}
    updated = conn.execute(_SETTLE, params | _PRICES).rowcount
    conn.execute(_GIVE_UP, params)
    return updated


def settle_history(conn, now: datetime) -> int:
    """Everything the worker would have settled by `now`, however old."""
    return run_cost_worker(conn, now=now, window=timedelta(days=100_000))
