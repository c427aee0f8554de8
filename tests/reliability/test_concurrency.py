"""One handler, many runs at once across threads and asyncio tasks: every trace is complete,
nothing leaks from one run into another, nothing stays open.

Size: ``OBS_RELIABILITY_SCALE=full`` runs 10,000 chains; CI runs 600.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan

from obs_core.testing import SpanCapture
from obs_langchain import ObsCallbackHandler
from reliability._apps import OpenSpans, echo_chain
from reliability._faults import sized

pytestmark = pytest.mark.slow

RUNS = sized(600, 10_000)
SPANS_PER_RUN = 3  # the sequence and its two steps


def _traces(spans: list[ReadableSpan]) -> dict[int, list[ReadableSpan]]:
    by_trace: dict[int, list[ReadableSpan]] = defaultdict(list)
    for span in spans:
        by_trace[span.context.trace_id].append(span)
    return by_trace


def _complete_and_separate(trace: list[ReadableSpan]) -> str | None:
    """The run name of a well-formed trace (one root, its two steps under it), else ``None``."""
    roots = [s for s in trace if s.parent is None]
    if len(trace) != SPANS_PER_RUN or len(roots) != 1:
        return None
    root = roots[0]
    children = [s for s in trace if s is not root]
    if any(c.parent is None or c.parent.span_id != root.context.span_id for c in children):
        return None
    return root.name


async def test_concurrent_runs_across_threads_and_tasks_give_complete_separate_traces() -> None:
    with SpanCapture() as capture:
        open_spans = OpenSpans()
        capture.tracer_provider.add_span_processor(open_spans)
        handler = ObsCallbackHandler(tracer_provider=capture.tracer_provider)
        chain = echo_chain()

        def config(i: int) -> Any:
            return {"callbacks": [handler], "run_name": f"run-{i}"}

        threaded = range(RUNS // 2)
        tasked = range(RUNS // 2, RUNS)
        loop = asyncio.get_running_loop()
        with ThreadPoolExecutor(max_workers=8) as pool:
            thread_answers = [
                loop.run_in_executor(pool, chain.invoke, {"question": f"q{i}"}, config(i))
                for i in threaded
            ]
            task_answers = [chain.ainvoke({"question": f"q{i}"}, config(i)) for i in tasked]
            answers = await asyncio.gather(*thread_answers, *task_answers)

        assert answers == [f"answer to q{i}" for i in range(RUNS)]
        traces = _traces(capture.spans)
        names = sorted(_complete_and_separate(t) or "<broken>" for t in traces.values())
        assert names == sorted(f"run-{i}" for i in range(RUNS))
        assert handler.recorder.open_run_count == 0
        assert open_spans.open == 0
