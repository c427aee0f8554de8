"""The price table: longest-prefix model matching and cache-aware cost."""

from __future__ import annotations

import pytest

from obs_core import PriceTable, TokenUsage


@pytest.fixture(scope="module")
def table() -> PriceTable:
    return PriceTable.default()


@pytest.mark.parametrize(
    ("model", "family_input_price"),
    [
        ("gpt-4o-2024-08-06", 2.50),
        ("gpt-4o-mini-2024-07-18", 0.15),
        ("openai/gpt-4.1-mini", 0.40),
        ("claude-sonnet-4-20250514", 3.0),
        ("claude-3-5-haiku-latest", 0.80),
        ("models/gemini-2.5-flash", 0.30),
        ("gemini-2.5-flash-lite", 0.10),
        ("mistral-large-latest", 2.0),
        ("meta-llama/llama-3.3-70b-instruct", 0.88),
    ],
)
def test_dated_and_prefixed_model_ids_find_their_family(table: PriceTable, model: str,
                                                        family_input_price: float) -> None:
    price = table.lookup(model)
    assert price is not None
    assert price.input == family_input_price


def test_table_is_versioned(table: PriceTable) -> None:
    assert table.version[:4].isdigit()


def test_cached_input_tokens_are_billed_at_the_cached_rate(table: PriceTable) -> None:
    usage = TokenUsage(input_tokens=1_000_000, output_tokens=1_000_000, cache_read_tokens=400_000)
    assert table.cost("gpt-4o", usage) == pytest.approx(0.6 * 2.50 + 0.4 * 1.25 + 10.0)


def test_cache_writes_use_the_cache_write_rate(table: PriceTable) -> None:
    usage = TokenUsage(input_tokens=1_000_000, output_tokens=0, cache_write_tokens=1_000_000)
    assert table.cost("claude-sonnet-4", usage) == pytest.approx(3.75)


def test_unknown_model_has_no_cost(table: PriceTable) -> None:
    assert table.cost("no-such-model", TokenUsage(input_tokens=10)) is None


def test_failed_and_cached_responses_cost_zero(table: PriceTable) -> None:
    usage = TokenUsage(input_tokens=10, output_tokens=10)
    assert table.cost("gpt-4o", usage, failed=True) == 0.0
    assert table.cost("gpt-4o", usage, cached_response=True) == 0.0


def test_every_listed_model_has_non_negative_prices(table: PriceTable) -> None:
    prices = table.prices()
    assert len(prices) >= 30
    providers = {p.provider for p in prices.values()}
    assert {"openai", "anthropic", "gcp.gemini", "mistral_ai", "meta"} <= providers
    assert all(p.input >= 0 and p.output >= 0 for p in prices.values())
