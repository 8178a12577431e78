"""Long-context prices by the model's rule, worked out by hand (without ccusage, which the
parity suite runs over the same logs): Copilot CLI shutdowns loaded by the real loader and
priced by dbt. Prices are genai-prices' (USD per million tokens)."""

from __future__ import annotations

import pytest

from ingestion.agent_cli import loader
from ingestion.agent_cli.sources import BY_NAME
from ingestion.core.connections import connect
from ingestion.prices import catalogue
from orchestration.defs.dbt.manifest import run_dbt
from tests.agent_cli_rule_logs import write_copilot_rule_logs

TARGET = "target/agent-cli-prices"
# session -> cost: (uncached input, cache read, cache write, output) of its one shutdown.
EXPECTED = {
    # gpt-5.4 (2.50 / 15 / 0.25; past 272 K of context 5 / 22.50 / 0.50): 100 K + 180 K of
    # context, every token at the higher rates though no type alone passes 272 K.
    "gpt-5.4-context-past": 100_000 * 5 + 180_000 * 0.5 + 10_000 * 22.5,
    # 250 K of input alone stays below 272 K: base rates.
    "gpt-5.4-input-only": 250_000 * 2.5 + 1_000 * 15,
    # claude-sonnet-4.5 (3 / 15 / 0.30, 6 / 22.50 / 0.60 per token type past 200 K): only the
    # cache reads pass it, by 300 K.
    "claude-sonnet-4.5-reads-past": 100_000 * 3 + 200_000 * 0.3 + 300_000 * 0.6 + 10_000 * 15,
    # claude-sonnet-4: the override seed's tier, the same as Sonnet 4.5's.
    "claude-sonnet-4-input-only": 200_000 * 3 + 50_000 * 6 + 1_000 * 15,
    # gpt-5 (1.25 / 10 / 0.125) has no cache-write price: 1.25 x input.
    "gpt-5-writes": 5_000 * 1.25 + 20_000 * 0.125 + 190_000 * 1.25 * 1.25 + 1_000 * 10,
    # gemini-2.5-pro (1.25 / 10 / 0.125; past 200 K 2.50 / 15 / 0.25): 215 K of context with
    # the writes; a write has no price of its own, so 1.25 x the base input.
    "gemini-2.5-pro-writes": 5_000 * 2.5 + 20_000 * 0.25 + 190_000 * 1.5625 + 1_000 * 15,
}


@pytest.fixture
def priced(urls, tmp_path, monkeypatch):
    monkeypatch.setenv("ATW_AGENT_LOG_SETTLE_SECONDS", "0")
    home = tmp_path / ".copilot"
    write_copilot_rule_logs(home)
    with connect(urls.warehouse) as warehouse:
        loader.load_cli(warehouse, "prices", BY_NAME["copilot_cli"], [home])
        catalogue.refresh(warehouse, catalogue.logged_model_names(warehouse))
    build = ["resource_type:seed", "model_prices", "stg_agent_cli__usage+"]
    run_dbt(
        urls.warehouse,
        ["build", "--quiet", "--select", *build, "--exclude", "int_agent_calls_unioned+"],
        TARGET,
        check=True,
    )
    return urls.warehouse


def test_each_model_prices_its_long_context_by_its_rule(priced):
    with connect(priced) as conn:
        costs = dict(
            conn.execute(
                "select session_id, cost_usd::float from marts.fct_agent_cli_sessions "
                "where session_id = any(%s)",
                (list(EXPECTED),),
            ).fetchall()
        )
    assert costs == pytest.approx({session: usd / 1e6 for session, usd in EXPECTED.items()})


def test_a_warehouse_seeded_by_an_older_release_takes_the_new_seed_column(priced):
    """The override seed gained `long_context_rule`: seeding again over the older table must
    not fail (seeds are recreated, `+full_refresh`)."""
    with connect(priced) as conn:
        conn.execute("alter table reference.model_price_overrides drop column long_context_rule")
    run_dbt(priced, ["seed", "--quiet"], TARGET, check=True)
    with connect(priced) as conn:
        rules = conn.execute(
            "select long_context_rule from reference.model_price_overrides"
        ).fetchall()
    assert rules and {rule for (rule,) in rules} == {"marginal"}
