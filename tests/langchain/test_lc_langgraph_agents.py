"""LangGraph graphs and LangChain v1 ``create_agent`` loops: agent spans, steps, limits."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypedDict

import pytest
from langchain.agents import create_agent
from langchain.agents.middleware import (
    ModelCallLimitMiddleware,
    ToolCallLimitMiddleware,
    ToolErrorMiddleware,
)
from langchain.agents.middleware.model_call_limit import ModelCallLimitExceededError
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.errors import GraphRecursionError
from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from obs_core import semconv as sc
from obs_core.testing import ScriptedOpenAIServer, ScriptedReply, SpanCapture
from obs_langchain import ObsCallbackHandler

if TYPE_CHECKING:
    from _langchain_checks import Checks

CHAT_SPAN = "chat gpt-4o-mini"


def attrs(span: ReadableSpan) -> Mapping[str, Any]:
    return span.attributes or {}


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@tool
def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


@tool
def flaky_lookup(city: str) -> str:
    """Look up a city; the backend is down."""
    raise ConnectionError("backend unavailable")


def _always_call_add() -> Callable[[Any], ScriptedReply]:
    return lambda request: ScriptedReply.tool_call("add", {"a": 1, "b": 1})


def test_create_agent_with_three_tool_calls_then_an_answer_counts_four_steps(
        server: ScriptedOpenAIServer, capture: SpanCapture, handler: ObsCallbackHandler,
        chat_model: Callable[..., ChatOpenAI], check: Checks) -> None:
    server.enqueue(ScriptedReply.tool_call("add", {"a": 2, "b": 3}),
                   ScriptedReply.tool_call("multiply", {"a": 5, "b": 4}),
                   ScriptedReply.tool_call("add", {"a": 20, "b": 1}),
                   ScriptedReply.text("The answer is 21."))
    agent = create_agent(chat_model(), [add, multiply], name="calculator")

    result = agent.invoke({"messages": [("user", "(2+3)*4+1?")]},
                          config={"callbacks": [handler], "configurable": {"thread_id": "th-1"}})

    assert result["messages"][-1].content == "The answer is 21."
    assert capture.tree() == [
        (0, "invoke_agent calculator"),
        (1, "model"), (2, CHAT_SPAN), (1, "tools"), (2, "execute_tool add"),
        (1, "model"), (2, CHAT_SPAN), (1, "tools"), (2, "execute_tool multiply"),
        (1, "model"), (2, CHAT_SPAN), (1, "tools"), (2, "execute_tool add"),
        (1, "model"), (2, CHAT_SPAN),
    ]
    a = attrs(capture.one("invoke_agent calculator"))
    assert a[sc.OBS_SPAN_KIND] == "agent"
    assert a[sc.GEN_AI_AGENT_NAME] == "calculator"
    assert a[sc.GEN_AI_CONVERSATION_ID] == "th-1"
    assert a[sc.OBS_AGENT_STEP_COUNT] == 4
    assert a[sc.OBS_AGENT_STEP_LIMIT] == 9_999  # create_agent's own recursion limit
    assert a[sc.OBS_AGENT_MAX_ITERATIONS_REACHED] is False
    assert a[sc.OBS_AGENT_STOP_REASON] == "final_answer"
    assert a[sc.OBS_AGENT_TOOL_CALL_COUNT] == 3
    per_tool = json.loads(str(a[sc.OBS_AGENT_TOOL_CALLS]))
    assert {name: stats["count"] for name, stats in per_tool.items()} == {"add": 2, "multiply": 1}
    assert all(stats["max_ms"] > 0 for stats in per_tool.values())
    prompt_tokens, completion_tokens = check.server_totals()
    assert a[sc.OBS_ROLLUP_INPUT_TOKENS] == prompt_tokens
    assert a[sc.OBS_ROLLUP_OUTPUT_TOKENS] == completion_tokens
    assert float(a[sc.OBS_ROLLUP_COST_USD]) > 0
    for chat in capture.by_name(CHAT_SPAN):
        check.tokens_match_server(chat)
    calls = [attrs(s)[sc.GEN_AI_TOOL_CALL_ID] for s in capture.by_name("execute_tool add")]
    assert all(str(c).startswith("call_") for c in calls)
    check.all_closed()


def test_create_agent_hitting_its_recursion_limit_is_an_error_with_the_limit_reached(
        server: ScriptedOpenAIServer, capture: SpanCapture, handler: ObsCallbackHandler,
        chat_model: Callable[..., ChatOpenAI], check: Checks) -> None:
    server.responder = _always_call_add()
    agent = create_agent(chat_model(), [add], name="looper")

    with pytest.raises(GraphRecursionError):
        agent.invoke({"messages": [("user", "loop")]},
                     config={"callbacks": [handler], "recursion_limit": 6})

    span = capture.one("invoke_agent looper")
    a = attrs(span)
    assert span.status.status_code is StatusCode.ERROR
    assert a[sc.ERROR_TYPE] == "langgraph.errors.GraphRecursionError"
    assert a[sc.OBS_AGENT_STEP_LIMIT] == 6
    assert a[sc.OBS_AGENT_MAX_ITERATIONS_REACHED] is True
    assert a[sc.OBS_AGENT_STOP_REASON] == "recursion_limit"
    assert a[sc.OBS_AGENT_STEP_COUNT] == len(server.requests) == 3
    check.all_closed()


def test_tool_that_raises_is_an_error_span_while_the_agent_recovers(
        server: ScriptedOpenAIServer, capture: SpanCapture, handler: ObsCallbackHandler,
        chat_model: Callable[..., ChatOpenAI], check: Checks) -> None:
    server.enqueue(ScriptedReply.tool_call("flaky_lookup", {"city": "Paris"}),
                   ScriptedReply.text("I could not look that up."))
    agent = create_agent(chat_model(), [flaky_lookup], name="concierge", middleware=[
        ToolErrorMiddleware(lambda exc, request: f"failed: {exc}")])

    result = agent.invoke({"messages": [("user", "Weather in Paris?")]},
                          config={"callbacks": [handler]})

    assert result["messages"][-1].content == "I could not look that up."
    tool_span = capture.one("execute_tool flaky_lookup")
    assert tool_span.status.status_code is StatusCode.ERROR
    assert attrs(tool_span)[sc.ERROR_TYPE] == "ConnectionError"
    agent_span = capture.one("invoke_agent concierge")
    a = attrs(agent_span)
    assert agent_span.status.status_code is StatusCode.OK
    assert a[sc.OBS_AGENT_STOP_REASON] == "final_answer"
    assert a[sc.OBS_AGENT_STEP_COUNT] == 2
    assert json.loads(str(a[sc.OBS_AGENT_TOOL_CALLS]))["flaky_lookup"]["errors"] == 1
    assert a[sc.OBS_ROLLUP_ERRORS] == 1
    check.all_closed()


def test_model_call_limit_middleware_ending_the_loop_stops_gracefully_at_the_limit(
        server: ScriptedOpenAIServer, capture: SpanCapture, handler: ObsCallbackHandler,
        chat_model: Callable[..., ChatOpenAI], check: Checks) -> None:
    server.responder = _always_call_add()
    agent = create_agent(chat_model(), [add], name="capped",
                         middleware=[ModelCallLimitMiddleware(run_limit=2, exit_behavior="end")])

    agent.invoke({"messages": [("user", "go")]}, config={"callbacks": [handler]})

    span = capture.one("invoke_agent capped")
    a = attrs(span)
    assert span.status.status_code is StatusCode.OK
    assert a[sc.OBS_AGENT_MAX_ITERATIONS_REACHED] is True
    assert a[sc.OBS_AGENT_STOP_REASON] == "model_call_limit"
    assert a[sc.OBS_AGENT_STEP_COUNT] == 2
    check.all_closed()


def test_model_call_limit_middleware_raising_is_an_error_with_the_limit_as_step_limit(
        server: ScriptedOpenAIServer, capture: SpanCapture, handler: ObsCallbackHandler,
        chat_model: Callable[..., ChatOpenAI], check: Checks) -> None:
    server.responder = _always_call_add()
    agent = create_agent(chat_model(), [add], name="strict",
                         middleware=[ModelCallLimitMiddleware(run_limit=2, exit_behavior="error")])

    with pytest.raises(ModelCallLimitExceededError):
        agent.invoke({"messages": [("user", "go")]}, config={"callbacks": [handler]})

    span = capture.one("invoke_agent strict")
    a = attrs(span)
    assert span.status.status_code is StatusCode.ERROR
    assert a[sc.OBS_AGENT_MAX_ITERATIONS_REACHED] is True
    assert a[sc.OBS_AGENT_STOP_REASON] == "model_call_limit"
    assert a[sc.OBS_AGENT_STEP_LIMIT] == 2
    check.all_closed()


def test_tool_call_limit_middleware_ending_the_loop_stops_gracefully_at_the_limit(
        server: ScriptedOpenAIServer, capture: SpanCapture, handler: ObsCallbackHandler,
        chat_model: Callable[..., ChatOpenAI], check: Checks) -> None:
    server.responder = _always_call_add()
    agent = create_agent(chat_model(), [add], name="frugal",
                         middleware=[ToolCallLimitMiddleware(run_limit=1, exit_behavior="end")])

    agent.invoke({"messages": [("user", "go")]}, config={"callbacks": [handler]})

    a = attrs(capture.one("invoke_agent frugal"))
    assert a[sc.OBS_AGENT_MAX_ITERATIONS_REACHED] is True
    assert a[sc.OBS_AGENT_STOP_REASON] == "tool_call_limit"
    assert a[sc.OBS_AGENT_TOOL_CALL_COUNT] == 1
    check.all_closed()


def test_unnamed_create_agent_is_recognised_from_its_integration_metadata(
        server: ScriptedOpenAIServer, capture: SpanCapture, handler: ObsCallbackHandler,
        chat_model: Callable[..., ChatOpenAI], check: Checks) -> None:
    server.enqueue(ScriptedReply.text("hello"))

    create_agent(chat_model(), [add]).invoke({"messages": [("user", "hi")]},
                                             config={"callbacks": [handler]})

    span = capture.one("invoke_agent LangGraph")
    assert attrs(span)[sc.OBS_SPAN_KIND] == "agent"
    assert attrs(span)[sc.OBS_AGENT_STEP_COUNT] == 1
    check.all_closed()


def test_agent_paused_by_an_interrupt_is_not_an_error(
        server: ScriptedOpenAIServer, capture: SpanCapture, handler: ObsCallbackHandler,
        chat_model: Callable[..., ChatOpenAI], check: Checks) -> None:
    @tool
    def transfer(amount: int) -> str:
        """Move money after a human approves."""
        approved = interrupt({"amount": amount})
        return f"approved={approved}"

    server.enqueue(ScriptedReply.tool_call("transfer", {"amount": 10}))
    agent = create_agent(chat_model(), [transfer], name="banker", checkpointer=InMemorySaver())

    result = agent.invoke({"messages": [("user", "send 10")]},
                          config={"callbacks": [handler], "configurable": {"thread_id": "t"}})

    assert "__interrupt__" in result
    tool_span = capture.one("execute_tool transfer")
    assert tool_span.status.status_code is not StatusCode.ERROR
    assert sc.ERROR_TYPE not in attrs(tool_span)
    agent_span = capture.one("invoke_agent banker")
    assert agent_span.status.status_code is StatusCode.OK
    assert attrs(agent_span)[sc.OBS_AGENT_STOP_REASON] == "interrupted"
    assert attrs(agent_span)[sc.OBS_AGENT_MAX_ITERATIONS_REACHED] is False
    check.all_closed()


class _Counter(TypedDict):
    n: int


def _counting_graph() -> Any:
    def increment(state: _Counter) -> _Counter:
        return {"n": state["n"] + 1}

    def route(state: _Counter) -> str:
        return "increment" if state["n"] < 2 else END

    builder = StateGraph(_Counter)
    builder.add_node("increment", increment)
    builder.add_edge(START, "increment")
    builder.add_conditional_edges("increment", route)
    return builder.compile(name="counter")


def test_langgraph_routing_functions_are_collapsed_by_default(
        capture: SpanCapture, handler: ObsCallbackHandler, check: Checks) -> None:
    assert _counting_graph().invoke({"n": 0}, config={"callbacks": [handler]}) == {"n": 2}

    assert capture.tree() == [(0, "counter"), (1, "increment"), (1, "increment")]
    assert attrs(capture.one("counter"))[sc.OBS_SPAN_KIND] == "chain"
    check.all_closed()


def test_keep_langgraph_internals_keeps_routing_functions(capture: SpanCapture) -> None:
    handler = ObsCallbackHandler(tracer_provider=capture.tracer_provider,
                                 keep_langgraph_internals=True)

    _counting_graph().invoke({"n": 0}, config={"callbacks": [handler]})

    assert capture.tree() == [(0, "counter"), (1, "increment"), (2, "route"),
                              (1, "increment"), (2, "route")]
    assert handler.recorder.open_run_count == 0


def test_interrupt_inside_a_graph_node_is_control_flow(
        capture: SpanCapture, handler: ObsCallbackHandler, check: Checks) -> None:
    def ask(state: _Counter) -> _Counter:
        return {"n": int(interrupt("how many?"))}

    builder = StateGraph(_Counter)
    builder.add_node("ask", ask)
    builder.add_edge(START, "ask")
    graph = builder.compile(name="asker", checkpointer=InMemorySaver())

    graph.invoke({"n": 0}, config={"callbacks": [handler], "configurable": {"thread_id": "q"}})

    node = capture.one("ask")
    assert node.status.status_code is StatusCode.OK
    assert attrs(node)["obs.control_flow"] == "langgraph.errors.GraphInterrupt"
    assert sc.ERROR_TYPE not in attrs(node)
    check.all_closed()


def test_agent_called_by_a_tool_of_another_agent_is_its_own_sub_agent(
        server: ScriptedOpenAIServer, capture: SpanCapture, handler: ObsCallbackHandler,
        chat_model: Callable[..., ChatOpenAI], check: Checks) -> None:
    researcher = create_agent(chat_model(), [add], name="researcher")

    @tool
    def research(topic: str) -> str:
        """Ask the research agent."""
        return str(researcher.invoke({"messages": [("user", topic)]})["messages"][-1].content)

    server.enqueue(ScriptedReply.tool_call("research", {"topic": "sums"}),
                   ScriptedReply.text("1 + 1 = 2."),
                   ScriptedReply.text("The researcher says 1 + 1 = 2."))
    lead = create_agent(chat_model(), [research], name="lead")

    lead.invoke({"messages": [("user", "What is 1 + 1?")]}, config={"callbacks": [handler]})

    inner = capture.one("invoke_agent researcher")
    parent = capture.parent(inner)
    assert parent is not None
    assert parent.name == "execute_tool research"
    assert attrs(inner)[sc.OBS_AGENT_STEP_COUNT] == 1
    assert attrs(capture.one("invoke_agent lead"))[sc.OBS_AGENT_STEP_COUNT] == 2
    check.all_closed()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::langchain_core._api.deprecation.LangChainDeprecationWarning")
def test_prebuilt_react_agent_named_with_lc_agent_name_is_an_agent(
        server: ScriptedOpenAIServer, capture: SpanCapture, handler: ObsCallbackHandler,
        chat_model: Callable[..., ChatOpenAI], check: Checks) -> None:
    from langgraph.prebuilt import create_react_agent

    server.enqueue(ScriptedReply.tool_call("add", {"a": 1, "b": 2}), ScriptedReply.text("3"))
    graph = create_react_agent(chat_model(), [add]).with_config(
        metadata={"lc_agent_name": "react"})

    graph.invoke({"messages": [("user", "1+2?")]}, config={"callbacks": [handler]})

    a = attrs(capture.one("invoke_agent react"))
    assert a[sc.OBS_AGENT_STEP_COUNT] == 2
    assert a[sc.OBS_AGENT_TOOL_CALL_COUNT] == 1
    check.all_closed()
