"""Model prices and the cost of a model call.

The table ships with the package (``_data/prices.json``, versioned by date) because cost has to
work offline and the same way everywhere; users override or extend it with :meth:`PriceTable.with_overrides`
or ``configure(prices=...)`` when they negotiate their own rates or run new models.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict

from obs_core.spans import TokenUsage


class ModelPrice(BaseModel):
    """USD per million tokens."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    input: float
    output: float
    cached_input: float | None = None
    """Price of input tokens read from the prompt cache; defaults to ``input``."""
    cache_write: float | None = None
    """Price of input tokens written to the prompt cache; defaults to ``input``."""
    provider: str | None = None

    def cost(self, usage: TokenUsage) -> float:
        cached = min(usage.cache_read_tokens, usage.input_tokens)
        written = min(usage.cache_write_tokens, usage.input_tokens - cached)
        fresh = usage.input_tokens - cached - written
        cached_rate = self.cached_input if self.cached_input is not None else self.input
        write_rate = self.cache_write if self.cache_write is not None else self.input
        return (
            fresh * self.input
            + cached * cached_rate
            + written * write_rate
            + usage.output_tokens * self.output
        ) / 1_000_000


_PROVIDER_PREFIXES = ("openai/", "anthropic/", "google/", "models/", "mistralai/", "meta-llama/",
                      "meta/", "azure/", "bedrock/", "vertex_ai/", "groq/", "together/")


class PriceTable:
    """Prices by model name with longest-prefix matching, so dated snapshots
    (``gpt-4o-2024-08-06``) and suffixed ids (``claude-sonnet-4-20250514``) find their family."""

    def __init__(self, prices: Mapping[str, ModelPrice], *, version: str) -> None:
        self.version = version
        self._prices = {k.lower(): v for k, v in prices.items()}
        self._by_length = sorted(self._prices, key=len, reverse=True)
        self._cache: dict[str, ModelPrice | None] = {}
        self._lock = threading.Lock()

    @classmethod
    def default(cls) -> PriceTable:
        raw = json.loads(resources.files("obs_core").joinpath("_data/prices.json").read_text("utf-8"))
        return cls.from_mapping(raw["models"], version=raw["version"])

    @classmethod
    def from_mapping(cls, models: Mapping[str, Mapping[str, Any] | ModelPrice], *,
                     version: str) -> PriceTable:
        parsed = {k: v if isinstance(v, ModelPrice) else ModelPrice.model_validate(v)
                  for k, v in models.items()}
        return cls(parsed, version=version)

    def with_overrides(self, overrides: Mapping[str, Mapping[str, Any] | ModelPrice]) -> PriceTable:
        merged: dict[str, ModelPrice] = dict(self._prices)
        merged.update(PriceTable.from_mapping(overrides, version="").prices())
        return PriceTable(merged, version=f"{self.version}+custom")

    def prices(self) -> dict[str, ModelPrice]:
        return dict(self._prices)

    def lookup(self, model: str | None) -> ModelPrice | None:
        if not model:
            return None
        key = model.lower()
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        name = key
        for prefix in _PROVIDER_PREFIXES:
            if name.startswith(prefix):
                name = name[len(prefix):]
                break
        found = next((self._prices[p] for p in self._by_length if name.startswith(p)), None)
        with self._lock:
            if len(self._cache) < 4096:
                self._cache[key] = found
        return found

    def cost(self, model: str | None, usage: TokenUsage | None, *, cached_response: bool = False,
             failed: bool = False) -> float | None:
        """USD for one call; ``None`` when the model is unknown. A response served from a cache
        and a failed call cost nothing."""
        if cached_response or failed:
            return 0.0
        price = self.lookup(model)
        if price is None or usage is None:
            return None
        return price.cost(usage)
