"""Model prices from a maintained catalogue (genai-prices, offline) into
`raw.model_price_catalogue`, one set of dated rows per distinct model name the sources logged.

genai-prices ships its price data inside the package (dated history, long-context tiers, 1-hour
cache writes) and never fetches unless asked to, so a lookup is offline and repeatable; a newer
release of the package is how prices are updated. dbt's `model_prices` joins these rows with
the override and alias seeds; SQL prices every call from it by the date of the call.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from importlib.metadata import version

import psycopg
from psycopg import sql

from ingestion.core import settings, watermarks
from ingestion.core.settings import DBT_PROJECT_DIR

# Names a log carries that are not models: Claude Code writes `<synthetic>` for messages it
# made up itself (no API call, no price).
NOT_MODELS = frozenset({"<synthetic>"})
FAST_SUFFIX = "-fast"  # ccusage names a `usage.speed: "fast"` response `<model>-fast`
# Before any dated price: the catalogue's first price applies to every earlier call.
EPOCH = date(1970, 1, 1)
PRICE_KINDS = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")
COLUMNS = (
    "model_name",
    "valid_from",
    "matched_provider",
    "matched_model",
    *(f"{kind}_per_mtok" for kind in PRICE_KINDS),
    "tier_threshold_tokens",
    *(f"{kind}_above_per_mtok" for kind in PRICE_KINDS),
    "catalogue",
)

# Where each source keeps the model of a call (Claude Code's fast mode is `<model>-fast`).
MODEL_COLUMNS = (
    (
        "raw.claude_code_lines",
        sql.SQL("case when speed = 'fast' then model || '-fast' else model end"),
    ),
    ("raw.collector_events", sql.Identifier("model_name")),
    ("raw.landed_collector_events", sql.Identifier("model_name")),
    ("raw.landed_metric_events", sql.Identifier("model_id")),
    ("raw.agent_cli_usage", sql.Identifier("model")),
)


@dataclass(frozen=True)
class PriceRow:
    model_name: str
    valid_from: date
    matched_provider: str
    matched_model: str
    prices: dict[str, Decimal | None]  # per kind: base price, and `<kind>_above` past the tier
    tier_threshold_tokens: int | None

    def values(self, catalogue: str) -> tuple:
        return (
            self.model_name,
            self.valid_from,
            self.matched_provider,
            self.matched_model,
            *(self.prices.get(kind) for kind in PRICE_KINDS),
            self.tier_threshold_tokens,
            *(self.prices.get(f"{kind}_above") for kind in PRICE_KINDS),
            catalogue,
        )


def catalogue_name() -> str:
    return f"genai-prices {version('genai-prices')}"


def aliases() -> dict[str, str]:
    """seeds/model_aliases.csv: names priced as another model's name."""
    with (DBT_PROJECT_DIR / "seeds" / "model_aliases.csv").open(newline="") as file:
        return {row["model_name"]: row["priced_as"] for row in csv.DictReader(file)}


def _lookup_refs(name: str) -> Iterator[tuple[str, str | None]]:
    """(model ref, provider id) to try: the name itself, then `provider/model@version` ids
    (OpenTelemetry and SDK metrics) as the provider's model."""
    yield name, None
    if "/" in name:
        provider, _, model = name.partition("/")
        model = model.split("@", 1)[0]
        yield model, provider
        yield model, None


def _amount(value) -> tuple[Decimal | None, int | None, Decimal | None]:
    """A catalogue price as (base, tier threshold, price above it)."""
    if value is None:
        return None, None, None
    tiers = getattr(value, "tiers", None)
    if tiers:  # Anthropic's long-context prices: one tier
        return value.base, tiers[0].start, tiers[0].price
    return value, None, None


def _row(name: str, valid_from: date, provider: str, model: str, price) -> PriceRow:
    prices: dict[str, Decimal | None] = {}
    threshold = None
    for kind in PRICE_KINDS:
        value = getattr(price, f"{kind}_mtok", None)
        if kind == "cache_write_5m" and value is None:
            value = price.cache_write_mtok  # the catalogue's cache write is the 5-minute one
        base, start, above = _amount(value)
        prices[kind] = base
        if start is not None:
            threshold, prices[f"{kind}_above"] = start, above
    return PriceRow(name, valid_from, provider, model, prices, threshold)


def _periods(model_info, fast: bool) -> list[tuple[date, object]]:
    """(valid_from, prices) of a catalogue model, oldest first; for a fast response the
    catalogue's fast-mode variant where it has one, else the standard prices (as ccusage
    prices fast mode of the models without a fast rate; Opus 4.6's is an override)."""
    prices = model_info.prices
    periods = (
        [(EPOCH, prices)]
        if not isinstance(prices, list)
        else [
            (getattr(p.constraint, "start_date", None) or EPOCH, p.prices)
            for p in prices
            if p.constraint is None or hasattr(p.constraint, "start_date")
        ]
    )
    if fast:
        for variant in model_info.price_variants or []:
            if variant.when == {"speed": "fast"}:
                start = getattr(variant.constraint, "start_date", None) or EPOCH
                periods = [(max(start, EPOCH), variant.prices)]
    return sorted(periods, key=lambda period: period[0])


def resolve(name: str) -> list[PriceRow]:
    """The catalogue's dated prices for one logged model name; [] when it has none."""
    from genai_prices import data_snapshot  # the bundled data: no network

    if not name or name in NOT_MODELS:
        return []
    fast = name.endswith(FAST_SUFFIX)
    lookup = name.removesuffix(FAST_SUFFIX) if fast else name
    snapshot = data_snapshot.get_snapshot()
    for ref, provider_id in _lookup_refs(lookup):
        try:
            provider, model_info = snapshot.find_provider_model(ref, None, provider_id, None)
        except LookupError:
            continue
        return [
            _row(name, valid_from, provider.id, model_info.id, price)
            for valid_from, price in _periods(model_info, fast)
        ]
    return []


def logged_model_names(warehouse: psycopg.Connection) -> set[str]:
    """Every model name the raw tables ever held, and the names aliases are priced as. Each
    table is read from where its last reading stopped (rows written since: `_loaded_at`,
    through its BRIN index), the names found are kept in raw.logged_model_names: a distinct
    over every row took 0.8 s at 5 M collector events, in every run. A name whose rows
    retention purged stays, as its catalogue rows do."""
    horizon = watermarks.write_horizon(warehouse, settings.number("ATW_DQ_WINDOW_MARGIN_HOURS"))
    for table, column in MODEL_COLUMNS:
        if not warehouse.execute("select to_regclass(%s)", (table,)).fetchone()[0]:
            continue
        since = warehouse.execute(
            "select read_through from raw.model_name_reads where table_name = %s", (table,)
        ).fetchone()
        warehouse.execute(
            sql.SQL(
                "insert into raw.logged_model_names (model_name) "
                "select distinct {column} from {table} "
                "where {column} is not null "
                "and _loaded_at >= coalesce(%s, '-infinity'::timestamptz) "
                "on conflict (model_name) do nothing"
            ).format(column=column, table=sql.Identifier(*table.split("."))),
            (since[0] if since else None,),
        )
        warehouse.execute(
            "insert into raw.model_name_reads (table_name, read_through) values (%s, %s) "
            "on conflict (table_name) do update set read_through = excluded.read_through",
            (table, horizon),
        )
    names = {name for (name,) in warehouse.execute("select model_name from raw.logged_model_names")}
    alias_map = aliases()
    return names | {alias_map[name] for name in names if name in alias_map}


def refresh(warehouse: psycopg.Connection, names: Iterable[str]) -> dict[str, int]:
    """Replace the catalogue rows of `names` with the catalogue's, in one transaction: counts of
    names priced and not found. Rows of other names stay: a model whose raw rows retention has
    purged still prices the calls the marts keep."""
    names = sorted(set(names))
    rows = [row for name in names for row in resolve(name)]
    catalogue = catalogue_name()
    columns = sql.SQL(", ").join(map(sql.Identifier, COLUMNS))
    with warehouse.transaction():
        warehouse.execute(
            "create temporary table resolved_prices "
            "(like raw.model_price_catalogue including defaults) on commit drop"
        )
        with warehouse.cursor().copy(
            sql.SQL("copy resolved_prices ({}) from stdin").format(columns)
        ) as copy:
            for row in rows:
                copy.write_row(row.values(catalogue))
        # Written only when it differs: dbt's steps skip when their sources have no new rows
        # (orchestration/defs/dbt/step_inputs.py), and the same prices every run would be new.
        kept = sql.SQL(
            "select {columns} from raw.model_price_catalogue where model_name = any(%(names)s)"
        ).format(columns=columns)
        resolved = sql.SQL("select {columns} from resolved_prices").format(columns=columns)
        differs = warehouse.execute(
            sql.SQL("select exists ({} except {}) or exists ({} except {})").format(
                resolved, kept, kept, resolved
            ),
            {"names": names},
        ).fetchone()[0]
        if differs:
            warehouse.execute(
                "delete from raw.model_price_catalogue where model_name = any(%s)", (names,)
            )
            warehouse.execute(
                sql.SQL(
                    "insert into raw.model_price_catalogue ({columns}) "
                    "select {columns} from resolved_prices"
                ).format(columns=columns)
            )
        # Within a caller's transaction, `on commit` comes later than the next refresh.
        warehouse.execute("drop table resolved_prices")
    priced = {row.model_name for row in rows}
    return {
        "models_priced": len(priced),
        "models_not_in_catalogue": len(set(names) - priced - NOT_MODELS),
    }
