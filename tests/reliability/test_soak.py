"""Soak, CI size: repeated agent runs leave no growth trend in live objects and no open span.

The full-size soak (20,000 agent runs per framework, RSS sampled) is ``benchmarks/soak.py``.
Here each phase first fills the recorder's bounded memory of ended run ids (it keeps the last
1,024 to tell a double end from a stray one), then compares the live Python object count over
two equal halves: a leak of even one object per run shows up as steady growth.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider

import obs_core
import obs_llamaindex
from obs_core import Recorder, RunStart, SpanKind
from obs_core._shared_recorder import shared_recorder
from obs_core.payloads import PayloadCapture
from obs_langchain import ObsCallbackHandler
from reliability._apps import OpenSpans, langchain_agent, llamaindex_agent
from reliability._faults import sized

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecationWarning"),
]

GROWTH_ALLOWANCE = 10
"""Live objects a whole half may add (caches settling); a per-run leak adds far more."""
ENDED_MEMORY = 1_100


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
    # LlamaIndex runs sync tools in the loop's default executor, which starts its threads
    # lazily (up to min(32, CPUs + 4)) whenever load makes calls overlap: one worker keeps that
    # bounded growth out of the count.
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    asyncio.get_running_loop().set_default_executor(executor)
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
        executor.shutdown(wait=False)


def _payload_capture(tmp_path: Path) -> tuple[TracerProvider, PayloadCapture]:
    provider = TracerProvider()
    runtime = obs_core.configure(tracer_provider=provider, trace_store=False,
                                 payload_store=tmp_path / "payloads.db")
    [capture] = [c for c in runtime.closers if isinstance(c, PayloadCapture)]
    return provider, capture


@pytest.mark.usefixtures("unconfigured")
def test_payload_capture_forgets_a_trace_scrub_session_once_its_root_is_stored(
        tmp_path: Path) -> None:
    provider, capture = _payload_capture(tmp_path)
    for i in range(300):
        with obs_core.llm_call(model="gpt-4o-mini", tracer_provider=provider,
                               messages=[{"role": "user", "content": f"mail ann{i}@example.com"}]):
            pass
    assert obs_core.flush(timeout_s=20)
    assert capture.trace_sessions == 0


@pytest.mark.usefixtures("unconfigured")
def test_payload_capture_keeps_a_bounded_number_of_sessions_for_traces_it_never_sees_end(
        tmp_path: Path) -> None:
    provider, capture = _payload_capture(tmp_path)
    for i in range(300):  # the agent root is not a captured kind: its end never reaches capture
        with obs_core.agent_run("mailer", tracer_provider=provider), obs_core.llm_call(
                model="gpt-4o-mini", tracer_provider=provider,
                messages=[{"role": "user", "content": f"mail ann{i}@example.com"}]):
            pass
    assert obs_core.flush(timeout_s=20)
    assert 0 < capture.trace_sessions <= 256
