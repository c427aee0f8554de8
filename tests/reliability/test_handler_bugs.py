"""A bug inside obs's own mapping code (an extractor in ``_attributes`` that raises) changes
nothing the application sees, is counted, and leaves no span open, in both integrations."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import obs_llamaindex
from obs_core import self_metrics
from obs_core.testing import SpanCapture
from obs_langchain import ObsCallbackHandler
from obs_langchain import _attributes as lc_attributes
from obs_langchain import _model_attributes as lc_model_attributes
from obs_llamaindex import _attributes as li_attributes
from reliability._apps import OpenSpans, langchain_agent, llamaindex_agent

pytestmark = [
    pytest.mark.lenient,
    pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecationWarning"),
]

# The extractors these agents really reach (the error count proves each one was hit).
LANGCHAIN_EXTRACTORS = ["chain_start", "chain_end", "agent_start", "model_start", "model_end",
                        "tool_start", "tool_end", "run_name"]
LLAMAINDEX_EXTRACTORS = ["agent_start", "agent_end", "llm_start", "llm_end", "tool_start"]


def _boom(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("injected extractor bug")


@pytest.fixture
def capture() -> Iterator[tuple[SpanCapture, OpenSpans]]:
    with SpanCapture() as spans:
        open_spans = OpenSpans()
        spans.tracer_provider.add_span_processor(open_spans)
        yield spans, open_spans


def _langchain_answer(handler: ObsCallbackHandler | None) -> list[str]:
    config: Any = {"callbacks": [handler]} if handler is not None else {}
    out = langchain_agent().invoke({"messages": [("user", "look x up")]}, config=config)
    return [str(m.content) for m in out["messages"]]


@pytest.mark.parametrize("extractor", LANGCHAIN_EXTRACTORS)
def test_langchain_extractor_bug_leaves_the_agent_result_unchanged_counted_and_closed(
        extractor: str, capture: tuple[SpanCapture, OpenSpans],
        monkeypatch: pytest.MonkeyPatch) -> None:
    module = lc_attributes if hasattr(lc_attributes, extractor) else lc_model_attributes
    spans, open_spans = capture
    expected = _langchain_answer(None)
    handler = ObsCallbackHandler(tracer_provider=spans.tracer_provider)
    monkeypatch.setattr(module, extractor, _boom)

    assert _langchain_answer(handler) == expected
    assert sum(self_metrics()["internal_errors"].values()) >= 1
    assert handler.recorder.open_run_count == 0
    assert open_spans.open == 0
    assert open_spans.started > 0


async def _llamaindex_answer() -> str:
    return str(await llamaindex_agent().run(user_msg="find x"))


@pytest.mark.parametrize("extractor", LLAMAINDEX_EXTRACTORS)
async def test_llamaindex_extractor_bug_leaves_the_agent_result_unchanged_counted_and_closed(
        extractor: str, capture: tuple[SpanCapture, OpenSpans],
        monkeypatch: pytest.MonkeyPatch) -> None:
    if not hasattr(li_attributes, extractor):
        pytest.skip(f"obs_llamaindex._attributes has no {extractor} now")
    spans, open_spans = capture
    expected = await _llamaindex_answer()
    handle = obs_llamaindex.instrument(tracer_provider=spans.tracer_provider)
    try:
        monkeypatch.setattr(li_attributes, extractor, _boom)
        assert await _llamaindex_answer() == expected
        assert sum(self_metrics()["internal_errors"].values()) >= 1
        assert handle.recorder.open_run_count == 0
        assert open_spans.open == 0
        assert open_spans.started > 0
    finally:
        handle.uninstrument()
