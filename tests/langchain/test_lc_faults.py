"""Bad input, events out of order and failures inside obs never change what the application
gets back, are counted, and leave no span open."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from langchain_core.runnables import RunnableLambda
from langchain_openai import ChatOpenAI
from opentelemetry.sdk.trace import ReadableSpan

import obs_core
from obs_core import semconv as sc
from obs_core.testing import ScriptedOpenAIServer, SpanCapture
from obs_langchain import ObsCallbackHandler, _attributes, _model_attributes


def attrs(span: ReadableSpan) -> Mapping[str, Any]:
    return span.attributes or {}


class _Unprintable:
    def __repr__(self) -> str:
        raise RuntimeError("no repr for you")

    __str__ = __repr__


def _hostile_value() -> dict[str, Any]:
    cyclic: dict[str, Any] = {"name": "loop"}
    cyclic["self"] = cyclic
    return {"cyclic": cyclic, "blob": b"\x00\xff" * 1000, "huge": "x" * 1_000_000,
            "odd": _Unprintable(), "surrogate": "\ud800", "nan": float("nan")}


def test_hostile_inputs_and_outputs_are_recorded_bounded_and_returned_untouched(
        capture: SpanCapture, handler: ObsCallbackHandler) -> None:
    handler.recorder.settings.content_on_spans = True
    value = _hostile_value()

    result = RunnableLambda(lambda x: x, name="echo").invoke(value, config={"callbacks": [handler]})

    assert result is value
    a = attrs(capture.one("echo"))
    assert len(str(a[sc.OBS_INPUT_VALUE])) <= handler.recorder.settings.max_attribute_length
    assert len(str(a[sc.OBS_OUTPUT_VALUE])) <= handler.recorder.settings.max_attribute_length
    assert handler.recorder.open_run_count == 0


def test_events_out_of_order_are_counted_and_leave_nothing_open(
        handler: ObsCallbackHandler) -> None:
    run, child = uuid.uuid4(), uuid.uuid4()

    handler.on_chain_end({"late": True}, run_id=run)
    handler.on_llm_new_token("x", run_id=run)
    handler.on_agent_action(object(), run_id=run)
    handler.on_agent_finish(object(), run_id=run)
    handler.on_chain_start(None, {}, run_id=run, name="once")
    handler.on_tool_start({"name": "t"}, "", run_id=child, parent_run_id=run)
    handler.on_chain_end({}, run_id=run)  # parent ends before its child
    handler.on_tool_end("done", run_id=child)
    handler.on_chain_end({}, run_id=run)  # twice
    handler.on_retriever_error(ValueError("never started"), run_id=uuid.uuid4())

    dropped = obs_core.self_metrics()["dropped"]
    assert dropped["end_without_start"] == 2
    assert dropped["double_end"] == 1
    assert handler.recorder.open_run_count == 0


def test_arguments_of_unexpected_types_still_give_spans(
        capture: SpanCapture, handler: ObsCallbackHandler) -> None:
    run = uuid.uuid4()
    handler.on_chat_model_start({"id": "not-a-list"}, [[object()]], run_id=run,
                                metadata={"ls_provider": 7, "thread_id": None},
                                invocation_params="not a mapping")
    handler.on_llm_end(object(), run_id=run)

    assert [s.name for s in capture.spans] == ["chat llm"]
    assert handler.recorder.open_run_count == 0


@pytest.mark.lenient
def test_failure_inside_a_mapping_function_is_contained_and_counted(
        monkeypatch: pytest.MonkeyPatch, capture: SpanCapture,
        handler: ObsCallbackHandler) -> None:
    def broken(**_: Any) -> Any:
        raise RuntimeError("mapping bug")

    monkeypatch.setattr(_attributes, "chain_start", broken)
    double: RunnableLambda[int, int] = RunnableLambda(lambda x: x * 2, name="double")
    chain = double | RunnableLambda(lambda x: x + 1, name="inc")

    result = chain.invoke(20, config={"callbacks": [handler]})

    assert result == 41
    assert obs_core.self_metrics()["internal_errors"]["langchain.on_chain_start"] == 3
    assert sorted(s.name for s in capture.spans) == ["RunnableSequence", "double", "inc"]
    assert handler.recorder.open_run_count == 0


@pytest.mark.lenient
def test_failure_mapping_a_model_response_still_ends_the_model_span(
        monkeypatch: pytest.MonkeyPatch, server: ScriptedOpenAIServer, capture: SpanCapture,
        handler: ObsCallbackHandler, chat_model: Callable[..., ChatOpenAI]) -> None:
    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("usage bug")

    monkeypatch.setattr(_model_attributes, "model_end", broken)

    answer = chat_model().invoke("hi", config={"callbacks": [handler]})

    assert answer.content == "Echo: hi"
    assert obs_core.self_metrics()["internal_errors"]["langchain.on_llm_end"] == 1
    assert capture.one("chat gpt-4o-mini").end_time is not None
    assert handler.recorder.open_run_count == 0
