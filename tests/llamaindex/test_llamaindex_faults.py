"""Bad input and obs's own failures never change what the application gets, leave no span open,
and are counted."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import pytest
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]
from llama_index.core.instrumentation.events.llm import LLMChatEndEvent, LLMChatStartEvent
from llama_index.core.llms import ChatMessage
from llama_index.core.workflow import StartEvent, StopEvent, Workflow, step
from llama_index.llms.openai import OpenAI

import obs_llamaindex
from llamaindex._support import attrs
from obs_core import Recorder, RecorderSettings, self_metrics
from obs_core import semconv as sc
from obs_core.testing import ScriptedOpenAIServer, ScriptedReply, SpanCapture
from obs_llamaindex import _attributes

pytestmark = pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecationWarning:inspect")


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no text for you")

    __repr__ = __str__


@pytest.fixture
def content_handler(capture: SpanCapture) -> Iterator[obs_llamaindex.ObsSpanHandler]:
    """Handlers whose recorder puts (bounded) content on spans."""
    settings = RecorderSettings(content_on_spans=True, max_attribute_length=200)
    handler = obs_llamaindex.ObsSpanHandler(
        recorder=Recorder(tracer_provider=capture.tracer_provider, settings=settings))
    events = obs_llamaindex.ObsEventHandler(span_handler=handler)
    dispatcher = get_dispatcher()
    dispatcher.add_span_handler(handler)
    dispatcher.add_event_handler(events)
    yield handler
    dispatcher.span_handlers[:] = [h for h in dispatcher.span_handlers if h is not handler]
    dispatcher.event_handlers[:] = [h for h in dispatcher.event_handlers if h is not events]
    handler.close()


def _boom(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("injected failure")


@pytest.mark.lenient
async def test_failing_end_mapping_leaves_the_answer_unchanged_and_is_counted(
    instrumented: obs_llamaindex.Instrumentation, capture: SpanCapture, server: ScriptedOpenAIServer,
    llm: OpenAI, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_attributes, "llm_end", _boom)
    server.enqueue(ScriptedReply.tool_call("echo", {"text": "hi"}), ScriptedReply.text("Said hi."))

    def echo(text: str) -> str:
        """Repeat the text."""
        return text

    agent = FunctionAgent(name="echoer", description="Echoes.", tools=[echo], llm=llm,
                          streaming=False)
    result = await agent.run(user_msg="Say hi")

    assert str(result) == "Said hi."
    assert self_metrics()["internal_errors"]["llamaindex.end_attributes"] == 2
    chats = capture.by_name("chat gpt-4o-mini")
    assert len(chats) == 2  # ended all the same, only without the response facts
    assert all(sc.GEN_AI_RESPONSE_ID not in attrs(s) for s in chats)
    assert attrs(capture.one("invoke_agent echoer"))[sc.OBS_AGENT_STEP_COUNT] == 2
    assert instrumented.recorder.open_run_count == 0


@pytest.mark.lenient
def test_failing_start_mapping_still_gives_a_balanced_span(
    instrumented: obs_llamaindex.Instrumentation, capture: SpanCapture, llm: OpenAI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_attributes, "llm_start", _boom)

    answer = llm.chat([ChatMessage(role="user", content="Hi")])

    assert answer.message.content == "Echo: Hi"
    [span] = capture.spans
    assert attrs(span)[sc.OBS_SPAN_KIND] == "llm"
    assert self_metrics()["internal_errors"]["llamaindex.start_attributes"] == 1
    assert instrumented.recorder.open_run_count == 0


@pytest.mark.lenient
def test_a_handler_that_raises_on_every_span_does_not_reach_the_application(
    instrumented: obs_llamaindex.Instrumentation, capture: SpanCapture, llm: OpenAI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(instrumented.span_handler.tracker, "enter", _boom)

    answer = llm.chat([ChatMessage(role="user", content="Hi")])

    assert answer.message.content == "Echo: Hi"
    assert self_metrics()["internal_errors"]["llamaindex.span_enter"] >= 1
    assert self_metrics()["dropped"]["llamaindex_exit_without_enter"] >= 1
    assert instrumented.recorder.open_run_count == 0


async def test_huge_tool_result_is_cut_to_the_attribute_limit(
    content_handler: obs_llamaindex.ObsSpanHandler, capture: SpanCapture,
    server: ScriptedOpenAIServer, llm: OpenAI,
) -> None:
    def fetch(page: int) -> str:
        """Fetch a page."""
        return "x" * 50_000

    server.enqueue(ScriptedReply.tool_call("fetch", {"page": 2}), ScriptedReply.text("Fetched."))
    agent = FunctionAgent(name="fetcher", description="Fetches.", tools=[fetch], llm=llm,
                          streaming=False)

    assert str(await agent.run(user_msg="Fetch page 2")) == "Fetched."

    tool = attrs(capture.one("execute_tool fetch"))
    assert len(tool[sc.GEN_AI_TOOL_CALL_RESULT]) == 200
    assert tool[sc.OBS_TRUNCATED_PREFIX + sc.GEN_AI_TOOL_CALL_RESULT] == 50_000
    assert tool[sc.GEN_AI_TOOL_CALL_ARGUMENTS] == '{"page":2}'
    assert content_handler.recorder.open_run_count == 0


class Odd(Workflow):
    @step
    async def answer(self, ev: StartEvent) -> StopEvent:
        return StopEvent(result={"blob": "y" * 100_000, "odd": Unprintable()})


async def test_unserialisable_workflow_input_and_output_are_described_not_raised(
    content_handler: obs_llamaindex.ObsSpanHandler, capture: SpanCapture,
) -> None:
    cyclic: dict[str, Any] = {"name": "loop"}
    cyclic["self"] = cyclic

    result: Any = await Odd(timeout=5).run(odd=Unprintable(), cyclic=cyclic)

    assert isinstance(result["odd"], Unprintable)
    span = attrs(capture.one("invoke_workflow Odd"))
    assert "<Unprintable>" in span[sc.OBS_INPUT_VALUE]
    assert len(span[sc.OBS_OUTPUT_VALUE]) <= 200
    assert span[sc.OBS_TRUNCATED_PREFIX + sc.OBS_OUTPUT_VALUE] > 100_000
    assert content_handler.recorder.open_run_count == 0


def test_events_and_exits_for_unknown_spans_are_counted_not_raised(
    instrumented: obs_llamaindex.Instrumentation, capture: SpanCapture,
) -> None:
    bound = inspect.signature(lambda: None).bind()
    unknown = "OpenAI.chat-00000000-0000-4000-8000-000000000000"

    instrumented.event_handler.handle(LLMChatStartEvent(
        messages=[], additional_kwargs={}, model_dict={}, span_id=unknown))
    instrumented.event_handler.handle(LLMChatEndEvent(messages=[], response=None, span_id=unknown))
    instrumented.span_handler.span_exit(id_=unknown, bound_args=bound, result=None)
    instrumented.span_handler.span_drop(id_=unknown, bound_args=bound, err=ValueError("x"))

    dropped = self_metrics()["dropped"]
    assert dropped["llamaindex_event_without_span"] == 1
    assert dropped["llamaindex_exit_without_enter"] == 2
    assert capture.spans == []
    assert instrumented.recorder.open_run_count == 0


def test_a_span_that_exits_before_its_start_event_leaves_nothing_open(
    instrumented: obs_llamaindex.Instrumentation, capture: SpanCapture,
) -> None:
    bound = inspect.signature(lambda: None).bind()
    span_id = "OpenAI.chat-00000000-0000-4000-8000-000000000001"

    instrumented.span_handler.span_enter(id_=span_id, bound_args=bound, instance=None)
    instrumented.span_handler.span_exit(id_=span_id, bound_args=bound, result=None)
    instrumented.event_handler.handle(LLMChatStartEvent(
        messages=[], additional_kwargs={}, model_dict={}, span_id=span_id))

    assert capture.spans == []
    assert instrumented.recorder.open_run_count == 0
    assert instrumented.span_handler.tracker.tracked_span_count == 0
