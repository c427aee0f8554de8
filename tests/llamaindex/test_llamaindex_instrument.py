"""instrument(): one line to turn it on, idempotent, exactly reversible; identity per trace."""

from __future__ import annotations

import contextvars

from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]
from llama_index.core.llms import ChatMessage
from llama_index.core.prompts import PromptTemplate
from llama_index.llms.openai import OpenAI
from opentelemetry import trace

import obs_llamaindex
from llamaindex._support import attrs
from obs_core import semconv as sc
from obs_core.testing import SpanCapture


def test_instrumenting_twice_returns_the_same_handle_and_registers_once(capture: SpanCapture) -> None:
    dispatcher = get_dispatcher()
    first = obs_llamaindex.instrument(tracer_provider=capture.tracer_provider)
    try:
        second = obs_llamaindex.instrument(tracer_provider=capture.tracer_provider)

        assert second is first
        assert [h for h in dispatcher.span_handlers if isinstance(h, obs_llamaindex.ObsSpanHandler)] == [first.span_handler]
        assert [h for h in dispatcher.event_handlers if isinstance(h, obs_llamaindex.ObsEventHandler)] == [first.event_handler]
    finally:
        first.uninstrument()


def test_uninstrument_restores_the_dispatcher_handler_lists_exactly(capture: SpanCapture) -> None:
    dispatcher = get_dispatcher()
    span_handlers, event_handlers = dispatcher.span_handlers, dispatcher.event_handlers
    before = (list(span_handlers), list(event_handlers))
    handle = obs_llamaindex.instrument(tracer_provider=capture.tracer_provider)

    handle.uninstrument()
    handle.uninstrument()

    after = (dispatcher.span_handlers, dispatcher.event_handlers)
    assert after[0] is span_handlers
    assert after[1] is event_handlers
    assert [id(h) for h in after[0]] == [id(h) for h in before[0]]
    assert [id(h) for h in after[1]] == [id(h) for h in before[1]]
    assert not handle.active


def test_nothing_is_traced_after_uninstrument(capture: SpanCapture, llm: OpenAI) -> None:
    obs_llamaindex.instrument(tracer_provider=capture.tracer_provider).uninstrument()

    llm.chat([ChatMessage(role="user", content="Hi")])

    assert capture.spans == []


def test_instrument_again_after_uninstrument_traces_again(capture: SpanCapture, llm: OpenAI) -> None:
    obs_llamaindex.instrument(tracer_provider=capture.tracer_provider).uninstrument()
    handle = obs_llamaindex.instrument(tracer_provider=capture.tracer_provider)
    try:
        llm.chat([ChatMessage(role="user", content="Hi")])
    finally:
        handle.uninstrument()

    assert [s.name for s in capture.spans] == ["chat gpt-4o-mini"]


def test_session_identity_is_on_every_span_of_the_trace(
    instrumented: obs_llamaindex.Instrumentation, capture: SpanCapture, llm: OpenAI,
) -> None:
    with obs_llamaindex.session(conversation_id="conv-7", user_id="user-42", user_cohort="beta"):
        llm.predict(PromptTemplate("Say {word}"), word="hi")
    llm.chat([ChatMessage(role="user", content="outside the session")])

    inside, outside = sorted(capture.spans, key=lambda s: s.start_time or 0)
    assert attrs(inside)[sc.GEN_AI_CONVERSATION_ID] == "conv-7"
    assert attrs(inside)[sc.USER_ID] == "user-42"
    assert attrs(inside)[sc.OBS_USER_COHORT] == "beta"
    assert sc.GEN_AI_CONVERSATION_ID not in attrs(outside)


def test_instrument_identity_defaults_apply_unless_a_session_overrides_them(
    capture: SpanCapture, llm: OpenAI,
) -> None:
    handle = obs_llamaindex.instrument(tracer_provider=capture.tracer_provider,
                                       pipeline_version="rag-v3", user_cohort="control")
    try:
        llm.chat([ChatMessage(role="user", content="default")])
        with obs_llamaindex.session(user_cohort="treatment"):
            llm.chat([ChatMessage(role="user", content="session")])
    finally:
        handle.uninstrument()

    first, second = sorted(capture.spans, key=lambda s: s.start_time or 0)
    assert attrs(first)[sc.OBS_PIPELINE_VERSION] == attrs(second)[sc.OBS_PIPELINE_VERSION] == "rag-v3"
    assert (attrs(first)[sc.OBS_USER_COHORT], attrs(second)[sc.OBS_USER_COHORT]) == ("control", "treatment")


def test_handlers_registered_by_hand_trace_like_instrument(capture: SpanCapture, llm: OpenAI) -> None:
    dispatcher = get_dispatcher()
    span_handler = obs_llamaindex.ObsSpanHandler(tracer_provider=capture.tracer_provider)
    event_handler = obs_llamaindex.ObsEventHandler(span_handler=span_handler)
    dispatcher.add_span_handler(span_handler)
    dispatcher.add_event_handler(event_handler)
    try:
        llm.chat([ChatMessage(role="user", content="Hi")])
    finally:
        dispatcher.span_handlers.remove(span_handler)
        dispatcher.event_handlers.remove(event_handler)
        span_handler.close()

    assert [s.name for s in capture.spans] == ["chat gpt-4o-mini"]
    assert span_handler.recorder.open_run_count == 0


def test_trace_context_travels_with_a_workflow_run_to_another_process(
    instrumented: obs_llamaindex.Instrumentation, capture: SpanCapture,
) -> None:
    tracer = capture.tracer_provider.get_tracer("app")
    with tracer.start_as_current_span("caller") as caller:
        carried = get_dispatcher().capture_propagation_context()

    def elsewhere() -> int:  # a fresh context, as in the process that resumes the run
        get_dispatcher().restore_propagation_context(carried)
        return trace.get_current_span().get_span_context().trace_id

    assert contextvars.Context().run(elsewhere) == caller.get_span_context().trace_id
