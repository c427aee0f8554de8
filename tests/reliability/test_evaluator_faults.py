"""Evaluators whose model or embedder raises, hangs or returns garbage give failure records, never
exceptions, and never hold up the application's event loop.

These are evaluator-level guarantees (``obs_core.evals``); the evaluation pipeline that runs
evaluators off the application's path is tested where it lives.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from obs_core import self_metrics
from obs_core.evals import (
    EvalFailure,
    EvalResult,
    EvalSample,
    Groundedness,
    OpenAIEmbedder,
    SemanticConsistency,
)
from obs_core.testing import ScriptedOpenAIServer, ScriptedReply

SAMPLE = EvalSample(input="Where is the Eiffel Tower?", output="The Eiffel Tower is in Paris.",
                    contexts=["The Eiffel Tower stands in Paris, France."],
                    samples=["It is in Paris.", "Paris, France."])


class FakeEmbedder:
    def __init__(self, embed: Callable[[list[str]], Any]) -> None:
        self._embed = embed
        self.name = "fake"

    def embed(self, texts: list[str]) -> list[list[float]]:
        return self._embed(texts)  # type: ignore[no-any-return]


def _raise(texts: list[str]) -> Any:
    raise ConnectionError("embedding service down")


GARBAGE: dict[str, Callable[[list[str]], Any]] = {
    "raises": _raise,
    "nan vectors": lambda texts: [[math.nan] * 8 for _ in texts],
    "inf vectors": lambda texts: [[math.inf, 1.0] for _ in texts],
    "wrong count": lambda texts: [[1.0, 0.0]],
    "ragged": lambda texts: [[1.0] * (i + 1) for i, _ in enumerate(texts)],
    "strings": lambda texts: [["a", "b"] for _ in texts],
    "none": lambda texts: None,
    "empty vectors": lambda texts: [[] for _ in texts],
    "zero vectors": lambda texts: [[0.0, 0.0] for _ in texts],
}


def _sound(outcome: EvalResult | EvalFailure) -> bool:
    """A failure record, or a result whose score is a real number in [0, 1]."""
    if isinstance(outcome, EvalFailure):
        return bool(outcome.error_type) and outcome.duration_ms is not None
    return math.isfinite(outcome.score) and 0.0 <= outcome.score <= 1.0


@pytest.mark.parametrize("evaluator_type", [Groundedness, SemanticConsistency])
@pytest.mark.parametrize("behaviour", list(GARBAGE))
def test_a_broken_embedder_gives_a_failure_record_or_a_sound_score(
        evaluator_type: type[Groundedness] | type[SemanticConsistency], behaviour: str) -> None:
    evaluator = evaluator_type(embedder=FakeEmbedder(GARBAGE[behaviour]))
    outcome = evaluator.evaluate(SAMPLE)
    assert _sound(outcome), outcome


def test_a_raising_embedder_is_recorded_and_counted() -> None:
    outcome = Groundedness(embedder=FakeEmbedder(_raise)).evaluate(SAMPLE)
    assert isinstance(outcome, EvalFailure)
    assert outcome.error_type == "ConnectionError"
    assert self_metrics()["internal_errors"] == {"evaluator:groundedness": 1}


async def test_a_hanging_embedder_never_blocks_the_event_loop() -> None:
    release = threading.Event()

    def hang(texts: list[str]) -> Any:
        release.wait(10)
        raise TimeoutError("released")

    evaluator = Groundedness(embedder=FakeEmbedder(hang))
    ticks = 0

    async def app() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    app_task = asyncio.create_task(app())
    started = time.perf_counter()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(evaluator.aevaluate(SAMPLE), timeout=0.3)
    elapsed = time.perf_counter() - started
    release.set()
    app_task.cancel()
    assert elapsed < 1.0
    assert ticks >= 10  # the application kept running while the evaluator hung


@pytest.mark.parametrize("reply", [ScriptedReply.http_error(500, "judge exploded"),
                                   ScriptedReply.http_error(429, "slow down"),
                                   ScriptedReply.hanging()],
                         ids=["500", "429", "hanging"])
def test_a_failing_embedding_endpoint_gives_a_failure_record_within_its_timeout(
        reply: ScriptedReply) -> None:
    with ScriptedOpenAIServer() as server:
        server.enqueue(reply, endpoints={"embeddings"})
        embedder = OpenAIEmbedder(base_url=server.base_url, model="text-embedding-3-small",
                                  api_key="sk-test", timeout=0.5)
        started = time.perf_counter()
        outcome = Groundedness(embedder=embedder).evaluate(SAMPLE)
        elapsed = time.perf_counter() - started
    assert isinstance(outcome, EvalFailure), outcome
    assert elapsed < 2.0
