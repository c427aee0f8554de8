"""Arbitrary, hostile values as inputs, outputs and metadata, through the recorder, the
framework-free API and both integrations: no crash (the suite runs strict, so a contained
internal error fails the test too), every attribute bounded and marked when cut, generators left
unconsumed, and a 50 MB string costs bounded memory.

Example counts follow ``OBS_RELIABILITY_SCALE`` (25 per property in CI, 400 at full size).
"""

from __future__ import annotations

import asyncio
import math
import tracemalloc
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.runnables import RunnableLambda
from llama_index.core.workflow import StartEvent, StopEvent, Workflow, step
from opentelemetry.sdk.trace import ReadableSpan

import obs_core
import obs_llamaindex
from obs_core import Recorder, RecorderSettings, RunEnd, RunStart, SpanKind
from obs_core import semconv as sc
from obs_core._values import TRUNCATION_MARKER
from obs_core.integration import shared_recorder
from obs_core.testing import SpanCapture
from obs_langchain import ObsCallbackHandler
from reliability._faults import full_scale

MAX_LEN = 256
MAX_LIST_ITEMS = 200
MAX_KEY_LEN = 512
FUZZ = settings(max_examples=400 if full_scale() else 25, deadline=None, derandomize=not full_scale(),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


class RaisingRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")

    __str__ = __repr__


class RaisingStr:
    def __str__(self) -> str:
        raise ValueError("no str")


def _cyclic_list() -> list[Any]:
    items: list[Any] = [1, "two"]
    items.append(items)
    return items


def _cyclic_dict() -> dict[str, Any]:
    mapping: dict[str, Any] = {"a": 1}
    mapping["self"] = {"parent": mapping}
    return mapping


def _generator() -> Iterator[int]:
    yield from range(3)


SPECIAL: list[Callable[[], Any]] = [RaisingRepr, RaisingStr, _cyclic_list, _cyclic_dict,
                                    _generator, lambda: object(), lambda: b"\xff\x00raw",
                                    lambda: bytearray(b"abc"), lambda: {1, 2, 3},
                                    lambda: memoryview(b"view")]

scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(), st.integers(min_value=2**63, max_value=2**200), st.integers(max_value=-(2**70)),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=st.characters(codec=None, categories=None), max_size=300),  # lone surrogates too
    st.binary(max_size=64),
    st.sampled_from(SPECIAL).map(lambda make: make()),
)
keys = st.one_of(st.text(max_size=40), st.integers(), st.just("x" * 2000))
values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=6), st.tuples(children, children),
                               st.dictionaries(keys, children, max_size=6)),
    max_leaves=40,
)
metadata = st.dictionaries(st.text(max_size=2000), scalars, max_size=6)


def _assert_bounded(spans: list[ReadableSpan], max_len: int = MAX_LEN) -> None:
    assert spans, "no span recorded"
    for span in spans:
        assert span.end_time is not None
        for key, value in (span.attributes or {}).items():
            assert len(key) <= MAX_KEY_LEN, f"attribute key of {len(key)} chars"
            if isinstance(value, str):
                assert len(value) <= max_len, (key, len(value))
                value.encode("utf-8")  # exportable: no lone surrogates left
            elif isinstance(value, tuple):
                assert len(value) <= MAX_LIST_ITEMS
                assert all(len(v) <= 1024 for v in value if isinstance(v, str))
            elif isinstance(value, float):
                assert math.isfinite(value) or key.startswith(sc.OBS_METADATA_PREFIX)


def _settings() -> RecorderSettings:
    return RecorderSettings(content_on_spans=True, max_attribute_length=MAX_LEN)


@pytest.fixture(scope="module")
def capture() -> Iterator[SpanCapture]:
    with SpanCapture() as spans:
        yield spans


@FUZZ
@given(inputs=values, outputs=values, meta=metadata)
def test_recorder_bounds_any_value(inputs: Any, outputs: Any, meta: Mapping[str, Any],
                                   capture: SpanCapture) -> None:
    capture.clear()
    recorder = Recorder(tracer_provider=capture.tracer_provider, settings=_settings())
    for kind in (SpanKind.CHAIN, SpanKind.LLM, SpanKind.TOOL, SpanKind.RETRIEVER):
        run_id = uuid.uuid4()
        recorder.start(run_id, None, RunStart(kind=kind, name="fuzz", inputs=inputs,
                                              metadata=dict(meta)))
        recorder.set_attributes(run_id, {"fuzz.value": inputs})
        recorder.end(run_id, RunEnd(outputs=outputs))
    assert recorder.open_run_count == 0
    _assert_bounded(capture.spans)


@FUZZ
@given(inputs=values, outputs=values, meta=metadata)
def test_framework_free_api_bounds_any_value(inputs: Any, outputs: Any, meta: Mapping[str, Any],
                                             capture: SpanCapture) -> None:
    """Through the shared recorder with the configured settings (default 4,096 characters)."""
    capture.clear()
    provider = capture.tracer_provider
    with obs_core.agent_run("fuzz", inputs=inputs, metadata=meta,
                            tracer_provider=provider) as agent:
        with obs_core.tool_call("t", arguments=inputs, tracer_provider=provider) as tool:
            tool.set_result(outputs)
            tool.set_attribute("fuzz.value", outputs)
        agent.set_output(outputs)
    recorder = shared_recorder(provider)
    assert recorder.open_run_count == 0
    _assert_bounded(capture.spans, max_len=obs_core.current_settings().max_attribute_length)


@pytest.fixture(scope="module")
def langchain_capture() -> Iterator[tuple[SpanCapture, ObsCallbackHandler]]:
    with SpanCapture() as capture:
        handler = ObsCallbackHandler(tracer_provider=capture.tracer_provider)
        handler.recorder.settings = _settings()
        yield capture, handler


@FUZZ
@given(inputs=values, outputs=values, meta=metadata)
def test_langchain_handler_bounds_any_value(
        inputs: Any, outputs: Any, meta: Mapping[str, Any],
        langchain_capture: tuple[SpanCapture, ObsCallbackHandler]) -> None:
    capture, handler = langchain_capture
    capture.clear()
    step = RunnableLambda(lambda _: outputs).with_config(run_name="fuzz")
    result = step.invoke(inputs, config={"callbacks": [handler],
                                         "metadata": {str(k): v for k, v in meta.items()}})
    assert result is outputs
    assert handler.recorder.open_run_count == 0
    _assert_bounded(capture.spans)


class _Echo(Workflow):
    @step
    async def answer(self, ev: StartEvent) -> StopEvent:
        return StopEvent(result=ev.get("payload"))


@pytest.fixture(scope="module")
def llamaindex_capture() -> Iterator[tuple[SpanCapture, obs_llamaindex.Instrumentation]]:
    with SpanCapture() as capture:
        handle = obs_llamaindex.instrument(tracer_provider=capture.tracer_provider)
        handle.recorder.settings = _settings()
        yield capture, handle
        handle.uninstrument()


@FUZZ
@given(inputs=values)
def test_llamaindex_handler_bounds_any_value(
        inputs: Any, llamaindex_capture: tuple[SpanCapture, obs_llamaindex.Instrumentation]) -> None:
    capture, handle = llamaindex_capture
    capture.clear()

    async def run() -> Any:
        return await _Echo(timeout=10).run(payload=inputs)

    assert asyncio.run(run()) is inputs
    assert handle.recorder.open_run_count == 0
    _assert_bounded(capture.spans)


def test_a_generator_input_is_described_not_consumed() -> None:
    with SpanCapture() as capture:
        recorder = Recorder(tracer_provider=capture.tracer_provider, settings=_settings())
        gen = _generator()
        run_id = uuid.uuid4()
        recorder.start(run_id, None, RunStart(kind=SpanKind.CHAIN, name="gen", inputs=gen))
        recorder.end(run_id, RunEnd(outputs=gen))
        assert list(gen) == [0, 1, 2]
        _assert_bounded(capture.spans)


@pytest.mark.slow
def test_a_fifty_megabyte_string_is_cut_with_a_marker_in_bounded_memory() -> None:
    huge = "a" * (50 * 1024 * 1024)
    with SpanCapture() as capture:
        recorder = Recorder(tracer_provider=capture.tracer_provider, settings=_settings())
        tracemalloc.start()
        try:
            run_id = uuid.uuid4()
            recorder.start(run_id, None, RunStart(kind=SpanKind.LLM, name="huge", inputs=huge))
            recorder.end(run_id, RunEnd(outputs={"text": huge}))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        [span] = capture.spans
    attrs = dict(span.attributes or {})
    cut = [k for k, v in attrs.items() if isinstance(v, str) and v.endswith(TRUNCATION_MARKER)]
    assert {sc.GEN_AI_INPUT_MESSAGES, sc.GEN_AI_OUTPUT_MESSAGES} <= set(cut)
    original = attrs[sc.OBS_TRUNCATED_PREFIX + sc.GEN_AI_INPUT_MESSAGES]
    assert isinstance(original, int)
    assert original >= len(huge)
    _assert_bounded([span])
    assert peak < 4 * len(huge), f"peak {peak / 2**20:.0f} MiB for a 50 MiB string"


def test_a_huge_metadata_key_gives_a_bounded_attribute_name(capture: SpanCapture) -> None:
    capture.clear()
    recorder = Recorder(tracer_provider=capture.tracer_provider, settings=_settings())
    run_id = uuid.uuid4()
    recorder.start(run_id, None, RunStart(kind=SpanKind.CHAIN, name="keys",
                                          metadata={"k" * 5000: "v"}))
    recorder.end(run_id)
    _assert_bounded(capture.spans)
