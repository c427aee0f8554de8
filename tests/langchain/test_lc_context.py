"""Context: spans that the application opens inside a run nest under obs's span, in every way
LangChain runs things, and concurrent runs sharing one handler stay in traces of their own."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pytest
from langchain.agents import create_agent
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from opentelemetry.sdk.trace import ReadableSpan

from obs_core import semconv as sc
from obs_core.testing import ScriptedOpenAIServer, ScriptedReply, SpanCapture
from obs_langchain import ObsCallbackHandler

if TYPE_CHECKING:
    from _langchain_checks import Checks

CHAT_SPAN = "chat gpt-4o-mini"


def attrs(span: ReadableSpan) -> Mapping[str, Any]:
    return span.attributes or {}


def _working_chain(capture: SpanCapture) -> Runnable[Any, Any]:
    tracer = capture.tracer_provider.get_tracer("app")

    def work(text: str) -> str:
        with tracer.start_as_current_span("app.work"):
            return text.upper()

    return RunnableLambda(lambda x: str(x), name="prepare") | RunnableLambda(work, name="work")


def _run(chain: Runnable[Any, Any], mode: str, config: RunnableConfig) -> list[Any]:
    inputs = ["a", "b", "c"]
    if mode == "invoke":
        return [chain.invoke(i, config=config) for i in inputs]
    if mode == "batch":
        return chain.batch(inputs, config=config)
    if mode == "stream":
        return ["".join(chain.stream(i, config=config)) for i in inputs]

    async def run_async() -> list[Any]:
        if mode == "ainvoke":
            return list(await asyncio.gather(*(chain.ainvoke(i, config=config) for i in inputs)))
        if mode == "abatch":
            return await chain.abatch(inputs, config=config)
        async def collect(item: str) -> str:
            return "".join([c async for c in chain.astream(item, config=config)])

        return [await collect(i) for i in inputs]

    return asyncio.run(run_async())


@pytest.mark.parametrize("mode", ["invoke", "batch", "stream", "ainvoke", "abatch", "astream"])
def test_span_opened_inside_a_runnable_nests_under_its_span(
        mode: str, capture: SpanCapture, handler: ObsCallbackHandler, check: Checks,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)

    outputs = _run(_working_chain(capture), mode, {"callbacks": [handler]})

    assert outputs == ["A", "B", "C"]
    user_spans = capture.by_name("app.work")
    assert len(user_spans) == 3
    for span in user_spans:
        parent = capture.parent(span)
        assert parent is not None
        assert parent.name == "work"
        assert attrs(parent)[sc.OBS_SPAN_KIND] == "chain"
    roots = capture.by_name("RunnableSequence")
    assert len({r.context.trace_id for r in roots}) == 3
    assert all(capture.parent(r) is None for r in roots)
    assert "Failed to detach context" not in caplog.text
    check.all_closed()


def _agent_with_traced_tool(capture: SpanCapture, model: ChatOpenAI) -> Any:
    tracer = capture.tracer_provider.get_tracer("app")

    @tool
    def lookup(city: str) -> str:
        """Look up a city."""
        with tracer.start_as_current_span("app.lookup"):
            return f"{city}: sunny"

    return create_agent(model, [lookup], name="weather")


def test_span_opened_by_a_tool_nests_under_the_tool_span(
        server: ScriptedOpenAIServer, capture: SpanCapture, handler: ObsCallbackHandler,
        chat_model: Callable[..., ChatOpenAI], check: Checks) -> None:
    server.enqueue(ScriptedReply.tool_call("lookup", {"city": "Oslo"}), ScriptedReply.text("Sunny."))

    _agent_with_traced_tool(capture, chat_model()).invoke(
        {"messages": [("user", "Weather in Oslo?")]}, config={"callbacks": [handler]})

    parent = capture.parent(capture.one("app.lookup"))
    assert parent is not None
    assert parent.name == "execute_tool lookup"
    check.all_closed()


async def test_span_opened_by_a_tool_nests_under_the_tool_span_in_async_runs(
        server: ScriptedOpenAIServer, capture: SpanCapture, handler: ObsCallbackHandler,
        chat_model: Callable[..., ChatOpenAI], check: Checks) -> None:
    server.enqueue(ScriptedReply.tool_call("lookup", {"city": "Oslo"}), ScriptedReply.text("Sunny."))

    await _agent_with_traced_tool(capture, chat_model()).ainvoke(
        {"messages": [("user", "Weather in Oslo?")]}, config={"callbacks": [handler]})

    parent = capture.parent(capture.one("app.lookup"))
    assert parent is not None
    assert parent.name == "execute_tool lookup"
    check.all_closed()


async def test_fifty_concurrent_ainvokes_sharing_one_handler_keep_their_traces_apart(
        server: ScriptedOpenAIServer, capture: SpanCapture, handler: ObsCallbackHandler,
        chat_model: Callable[..., ChatOpenAI], check: Checks) -> None:
    server.responder = lambda request: ScriptedReply.text(f"answer to {request.last_text}",
                                                          delay=0.01)
    prompt = ChatPromptTemplate.from_messages([("human", "{question}")])
    chain = prompt | chat_model() | StrOutputParser()

    answers = await asyncio.gather(*(
        chain.ainvoke({"question": f"q{i}"}, config={"callbacks": [handler],
                                                     "metadata": {"session_id": f"s{i}"}})
        for i in range(50)))

    assert answers == [f"answer to q{i}" for i in range(50)]
    roots = capture.by_name("RunnableSequence")
    assert len(roots) == 50
    assert len({r.context.trace_id for r in roots}) == 50
    for root in roots:
        children = capture.children(root)
        assert [c.name for c in children] == ["ChatPromptTemplate", CHAT_SPAN, "StrOutputParser"]
        session = attrs(root)[sc.GEN_AI_CONVERSATION_ID]
        assert all(attrs(c)[sc.GEN_AI_CONVERSATION_ID] == session for c in children)
        assert attrs(root)[sc.OBS_ROLLUP_LLM_CALLS] == 1
    for chat in capture.by_name(CHAT_SPAN):
        check.tokens_match_server(chat)
    check.all_closed()


def test_run_after_a_leaked_stream_activation_joins_the_application_span_it_started_in(
        capture: SpanCapture) -> None:
    """A finished chain from before the application opened its span must not decide where a
    later run lands when a stream's activation leaks inside that span."""
    import contextvars
    import uuid

    from obs_core.integration import Recorder, RunStart
    from obs_core.spans import SpanKind
    from obs_langchain._context import Activations

    recorder = Recorder(tracer_provider=capture.tracer_provider)
    activations = Activations(recorder)
    app = capture.tracer_provider.get_tracer("app")

    def chain(name: str) -> uuid.UUID:
        run_id = uuid.uuid4()
        activations.start(run_id, None, RunStart(kind=SpanKind.CHAIN, name=name))
        return run_id

    recorder.end(chain("earlier"))
    with app.start_as_current_span("request"):
        # A stream finished by another task cannot undo its activation here.
        contextvars.copy_context().run(recorder.end, chain("stream"))
        recorder.end(chain("later"))

    parents = {s.name: s.parent.span_id if s.parent else None for s in capture.spans}
    request = next(s for s in capture.spans if s.name == "request")
    assert parents["stream"] == request.context.span_id
    assert parents["later"] == request.context.span_id
