"""Soak, CI size: repeated agent runs leave no growth trend in live objects and no open span.

The full-size soak (20,000 agent runs per framework, RSS sampled) is ``benchmarks/soak.py``.
Here each phase first fills the recorder's bounded memory of ended run ids (it keeps the last
4,096 to tell a double end from a stray one), then compares the live Python object count over
two equal halves: a leak of even one object per run shows up as steady growth.
"""

from __future__ import annotations

import gc
import uuid
from collections.abc import Awaitable, Callable, Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider

import obs_core
import obs_llamaindex
from obs_core import Recorder, RunStart, SpanKind
from obs_core._shared_recorder import shared_recorder
from obs_langchain import ObsCallbackHandler
from reliability._apps import OpenSpans, langchain_agent, llamaindex_agent
from reliability._faults import sized

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecationWarning"),
]

GROWTH_ALLOWANCE = 10
"""Live objects a whole half may add (caches settling); a per-run leak adds far more."""
ENDED_MEMORY = 4_200


def _live_objects() -> int:
    gc.collect()
    return len(gc.get_objects())


def _fill_ended_memory(recorder: Recorder) -> None:
    for _ in range(ENDED_MEMORY):
        run_id = uuid.uuid4()
        recorder.start(run_id, None, RunStart(kind=SpanKind.CHAIN, name="warm-up", hidden=True))
        recorder.end(run_id)


def _halves(run: Callable[[], object], half: int, warmup: int) -> tuple[int, int]:
    for _ in range(warmup):
        run()
    start = _live_objects()
    for _ in range(half):
        run()
    middle = _live_objects()
    for _ in range(half):
        run()
    return middle - start, _live_objects() - middle


async def _ahalves(run: Callable[[], Awaitable[object]], half: int, warmup: int
                   ) -> tuple[int, int]:
    for _ in range(warmup):
        await run()
    start = _live_objects()
    for _ in range(half):
        await run()
    middle = _live_objects()
    for _ in range(half):
        await run()
    return middle - start, _live_objects() - middle


@pytest.fixture
def provider() -> Iterator[tuple[TracerProvider, OpenSpans]]:
    tracer_provider = TracerProvider()
    open_spans = OpenSpans()
    tracer_provider.add_span_processor(open_spans)
    yield tracer_provider, open_spans
    tracer_provider.shutdown()


def test_framework_free_agent_runs_leave_no_growth_and_no_open_span(
        provider: tuple[TracerProvider, OpenSpans]) -> None:
    tracer_provider, open_spans = provider
    recorder = shared_recorder(tracer_provider, None, obs_core.current_settings())
    _fill_ended_memory(recorder)

    def run() -> None:
        with obs_core.agent_run("soak", max_iterations=3, tracer_provider=tracer_provider) as agent:
            with obs_core.llm_call(model="gpt-4o-mini", provider="openai",
                                   tracer_provider=tracer_provider) as call:
                call.set_usage(input_tokens=3, output_tokens=2)
            with obs_core.tool_call("lookup", arguments={"q": "x"},
                                    tracer_provider=tracer_provider) as tool:
                tool.set_result("found")
            agent.finish(stop_reason="final_answer")

    _, second = _halves(run, sized(120, 10_000), warmup=20)
    assert second <= GROWTH_ALLOWANCE
    assert recorder.open_run_count == 0
    assert open_spans.open == 0


def test_langchain_agent_runs_leave_no_growth_and_no_open_span(
        provider: tuple[TracerProvider, OpenSpans]) -> None:
    tracer_provider, open_spans = provider
    handler = ObsCallbackHandler(tracer_provider=tracer_provider)
    _fill_ended_memory(handler.recorder)
    agent = langchain_agent()

    def run() -> None:
        out = agent.invoke({"messages": [("user", "look x up")]},
                           config={"callbacks": [handler]})
        assert out["messages"][-1].content == "done"

    _, second = _halves(run, sized(25, 10_000), warmup=10)
    assert second <= GROWTH_ALLOWANCE
    assert handler.recorder.open_run_count == 0
    assert open_spans.open == 0


async def test_llamaindex_agent_runs_leave_no_growth_and_no_open_span(
        provider: tuple[TracerProvider, OpenSpans]) -> None:
    tracer_provider, open_spans = provider
    handle = obs_llamaindex.instrument(tracer_provider=tracer_provider)
    try:
        _fill_ended_memory(handle.recorder)
        agent = llamaindex_agent()

        async def run() -> None:
            assert str(await agent.run(user_msg="find x")) == "Tool calls complete."

        _, second = await _ahalves(run, sized(8, 10_000), warmup=5)
        assert second <= GROWTH_ALLOWANCE
        assert handle.recorder.open_run_count == 0
        assert open_spans.open == 0
    finally:
        handle.uninstrument()
