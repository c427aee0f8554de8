"""Classic ``AgentExecutor`` loops (langchain-classic): recognised from the instance, limits read
from it, early stops recognised from the rounds the loop ran."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pytest
from langchain_classic.agents import AgentExecutor, ZeroShotAgent, create_tool_calling_agent
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from obs_core import semconv as sc
from obs_core.testing import RecordedRequest, ScriptedOpenAIServer, ScriptedReply, SpanCapture
from obs_langchain import ObsCallbackHandler

if TYPE_CHECKING:
    from _langchain_checks import Checks

CHAT_SPAN = "chat gpt-4o-mini"
AGENT_SPAN = "invoke_agent AgentExecutor"


def attrs(span: ReadableSpan) -> Mapping[str, Any]:
    return span.attributes or {}


@tool
def search(query: str) -> str:
    """Search the knowledge base."""
    return "no results"


def _tool_calling_executor(model: ChatOpenAI, **options: Any) -> AgentExecutor:
    prompt = ChatPromptTemplate.from_messages([
        ("system", "You are helpful."), ("human", "{input}"), ("placeholder", "{agent_scratchpad}")])
    return AgentExecutor(agent=create_tool_calling_agent(model, [search], prompt),
                         tools=[search], **options)


def test_executor_stopped_by_max_iterations_in_force_mode_is_ok_with_the_limit_reached(
        server: ScriptedOpenAIServer, capture: SpanCapture, handler: ObsCallbackHandler,
        chat_model: Callable[..., ChatOpenAI], check: Checks) -> None:
    server.responder = lambda request: ScriptedReply.tool_call("search", {"query": "x"})
    executor = _tool_calling_executor(chat_model(stream_usage=True), max_iterations=2,
                                      early_stopping_method="force")

    result = executor.invoke({"input": "find it"}, config={"callbacks": [handler]})

    assert result["output"].startswith("Agent stopped")
    span = capture.one(AGENT_SPAN)
    a = attrs(span)
    assert span.status.status_code is StatusCode.OK
    assert a[sc.OBS_SPAN_KIND] == "agent"
    assert a[sc.OBS_AGENT_STEP_LIMIT] == 2
    assert a[sc.OBS_AGENT_STEP_COUNT] == 2
    assert a[sc.OBS_AGENT_MAX_ITERATIONS_REACHED] is True
    assert a[sc.OBS_AGENT_STOP_REASON] == "max_iterations"
    assert a[sc.OBS_AGENT_TOOL_CALL_COUNT] == 2
    assert [s.name for s in capture.children(span)] == [
        "RunnableSequence", "execute_tool search", "RunnableSequence", "execute_tool search"]
    prompt_tokens, completion_tokens = check.server_totals()
    assert len(server.usage_log) == 2
    assert a[sc.OBS_ROLLUP_INPUT_TOKENS] == prompt_tokens
    assert a[sc.OBS_ROLLUP_OUTPUT_TOKENS] == completion_tokens
    check.all_closed()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::langchain_core._api.deprecation.LangChainDeprecationWarning")
def test_executor_stopped_by_max_iterations_in_generate_mode_is_ok_with_the_limit_reached(
        server: ScriptedOpenAIServer, capture: SpanCapture, handler: ObsCallbackHandler,
        chat_model: Callable[..., ChatOpenAI], check: Checks) -> None:
    def respond(request: RecordedRequest) -> ScriptedReply:
        if "return a final answer" in request.last_text:
            return ScriptedReply.text("Final Answer: nothing was found")
        return ScriptedReply.text("Thought: keep looking\nAction: search\nAction Input: x")

    server.responder = respond
    agent = ZeroShotAgent.from_llm_and_tools(chat_model(), [search])
    executor = AgentExecutor(agent=agent, tools=[search], max_iterations=2,
                             early_stopping_method="generate")

    result = executor.invoke({"input": "find it"}, config={"callbacks": [handler]})

    assert result["output"] == "nothing was found"
    assert len(server.requests) == 3  # two rounds, then the final generation
    span = capture.one(AGENT_SPAN)
    a = attrs(span)
    assert span.status.status_code is StatusCode.OK
    assert a[sc.OBS_AGENT_STEP_LIMIT] == 2
    assert a[sc.OBS_AGENT_MAX_ITERATIONS_REACHED] is True
    assert a[sc.OBS_AGENT_STOP_REASON] == "max_iterations"
    assert a[sc.OBS_AGENT_TOOL_CALL_COUNT] == 2
    check.all_closed()


def test_executor_answering_within_its_limit_is_a_final_answer(
        server: ScriptedOpenAIServer, capture: SpanCapture, handler: ObsCallbackHandler,
        chat_model: Callable[..., ChatOpenAI], check: Checks) -> None:
    server.enqueue(ScriptedReply.tool_call("search", {"query": "x"}),
                   ScriptedReply.text("Nothing is known about it."))
    executor = _tool_calling_executor(chat_model(), max_iterations=2)

    result = executor.invoke({"input": "find it"}, config={"callbacks": [handler]})

    assert result["output"] == "Nothing is known about it."
    a = attrs(capture.one(AGENT_SPAN))
    assert a[sc.OBS_AGENT_MAX_ITERATIONS_REACHED] is False
    assert a[sc.OBS_AGENT_STOP_REASON] == "final_answer"
    assert a[sc.OBS_AGENT_STEP_COUNT] == 2
    assert a[sc.OBS_AGENT_TOOL_CALL_COUNT] == 1
    check.all_closed()


def test_streamed_executor_is_recognised_through_its_iterator(
        server: ScriptedOpenAIServer, capture: SpanCapture, handler: ObsCallbackHandler,
        chat_model: Callable[..., ChatOpenAI], check: Checks) -> None:
    server.responder = lambda request: ScriptedReply.tool_call("search", {"query": "x"})
    executor = _tool_calling_executor(chat_model(), max_iterations=1)

    list(executor.stream({"input": "find it"}, config={"callbacks": [handler]}))

    a = attrs(capture.one(AGENT_SPAN))
    assert a[sc.OBS_AGENT_STEP_LIMIT] == 1
    assert a[sc.OBS_AGENT_MAX_ITERATIONS_REACHED] is True
    check.all_closed()


async def test_async_executor_is_recognised_and_its_limit_read(
        server: ScriptedOpenAIServer, capture: SpanCapture, handler: ObsCallbackHandler,
        chat_model: Callable[..., ChatOpenAI], check: Checks) -> None:
    server.responder = lambda request: ScriptedReply.tool_call("search", {"query": "x"})
    executor = _tool_calling_executor(chat_model(), max_iterations=2)

    await executor.ainvoke({"input": "find it"}, config={"callbacks": [handler]})

    a = attrs(capture.one(AGENT_SPAN))
    assert a[sc.OBS_AGENT_STEP_COUNT] == 2
    assert a[sc.OBS_AGENT_MAX_ITERATIONS_REACHED] is True
    assert len(capture.by_name(CHAT_SPAN)) == 2
    check.all_closed()
