"""Asking a judge with bounded retries, and keeping the judge's own bill.

The judge's usage is accounted here, per evaluation, and reported in ``EvalResult.details``
under ``"judge"``; it never reaches the application's spans or roll-ups.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from obs_core.evals._judge_clients import JudgeModel, Message
from obs_core.evals._judge_parse import JudgeOutputError
from obs_core.pricing import PriceTable
from obs_core.spans import TokenUsage

logger = logging.getLogger("obs.evals.judge")

T = TypeVar("T")

_REMINDER = (
    "Your previous answer could not be read. Reply with only the JSON object described above, "
    "nothing else."
)


class SupportsScrub(Protocol):
    def scrub(self, text: str) -> str: ...


@dataclass(kw_only=True)
class JudgeUsage:
    """Tokens and cost the judge spent on one evaluation (all attempts, all steps)."""

    model: str
    calls: int = 0
    retries: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
    models_seen: set[str] = field(default_factory=set)

    def as_details(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "calls": self.calls,
            "retries": self.retries,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": self.cost_usd,
        }


class JudgeCaller:
    """Runs one question against the judge until its answer parses, or attempts run out."""

    def __init__(
        self,
        *,
        model: JudgeModel,
        max_retries: int,
        backoff_s: float,
        prices: PriceTable | None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self.model = model
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.prices = prices
        self._sleep = sleep

    def ask(self, messages: Sequence[Message], parse: Callable[[str], T], usage: JudgeUsage) -> T:
        """Parsed answer; raises :class:`JudgeOutputError` after ``1 + max_retries`` bad ones.
        Transport errors (HTTP, timeouts) propagate at once: the pipeline retries jobs."""
        conversation = list(messages)
        last_error: JudgeOutputError | None = None
        for attempt in range(self.max_retries + 1):
            if attempt:
                usage.retries += 1
                self._sleep(self.backoff_s * (2 ** (attempt - 1)))
            reply = self.model.complete(conversation)
            usage.calls += 1
            usage.input_tokens += reply.input_tokens
            usage.output_tokens += reply.output_tokens
            if reply.model:
                usage.models_seen.add(reply.model)
            self._price(reply.model, reply.input_tokens, reply.output_tokens, usage)
            try:
                return parse(reply.text)
            except JudgeOutputError as exc:
                last_error = exc
                logger.debug("judge answer unreadable (attempt %d): %s", attempt + 1, exc)
                conversation = [
                    *messages,
                    {"role": "assistant", "content": reply.text[:2_000]},
                    {"role": "user", "content": _REMINDER},
                ]
        raise last_error or JudgeOutputError("the judge was never asked")

    def _price(self, model: str, input_tokens: int, output_tokens: int, usage: JudgeUsage) -> None:
        if self.prices is None or not model:
            return
        cost = self.prices.cost(
            model, TokenUsage(input_tokens=input_tokens, output_tokens=output_tokens)
        )
        if cost is not None:
            usage.cost_usd = (usage.cost_usd or 0.0) + cost


def bounded(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + " [...]"
