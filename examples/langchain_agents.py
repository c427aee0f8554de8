"""LangChain agents traced by obs, offline: steps, tool calls and limits.

Four runs against obs's scripted OpenAI-compatible server, all traced through ``instrument()``
(no callbacks passed anywhere):

1. a ``create_agent`` agent that calls two tools three times, then answers: 4 steps;
2. the same agent looping until LangGraph's recursion limit stops it (an error, limit reached);
3. a ``create_agent`` agent whose ``ModelCallLimitMiddleware`` ends the loop (OK, limit reached);
4. a classic ``AgentExecutor`` stopped by ``max_iterations`` (OK, limit reached).

Run: python examples/langchain_agents.py
"""

from __future__ import annotations

from langchain.agents import create_agent
from langchain.agents.middleware import ModelCallLimitMiddleware
from langchain_classic.agents import AgentExecutor, create_tool_calling_agent
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from langgraph.errors import GraphRecursionError

import obs_langchain
from obs_core.testing import ScriptedOpenAIServer, ScriptedReply, SpanCapture, capture_spans


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@tool
def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


def report(title: str, capture: SpanCapture) -> None:
    print(f"== {title}\n{capture.format_tree()}\n{capture.format_agents()}\n")
    capture.clear()


def main() -> None:
    with ScriptedOpenAIServer() as server, capture_spans() as capture:
        obs_langchain.instrument(tracer_provider=capture.tracer_provider)
        llm = ChatOpenAI(model="gpt-4o-mini", base_url=server.base_url, api_key="sk-offline",
                         stream_usage=True)
        calculator = create_agent(llm, [add, multiply], name="calculator")

        server.enqueue(ScriptedReply.tool_call("add", {"a": 2, "b": 3}),
                       ScriptedReply.tool_call("multiply", {"a": 5, "b": 4}),
                       ScriptedReply.tool_call("add", {"a": 20, "b": 1}),
                       ScriptedReply.text("(2 + 3) * 4 + 1 = 21."))
        calculator.invoke({"messages": [("user", "What is (2 + 3) * 4 + 1?")]})
        report("three tool calls, then an answer", capture)

        server.responder = lambda request: ScriptedReply.tool_call("add", {"a": 1, "b": 1})
        try:
            calculator.invoke({"messages": [("user", "Keep adding.")]},
                              config={"recursion_limit": 6})
        except GraphRecursionError:
            print("(GraphRecursionError raised, as LangGraph does)")
        report("stopped by the recursion limit", capture)

        capped = create_agent(llm, [add], name="capped",
                              middleware=[ModelCallLimitMiddleware(run_limit=2)])
        capped.invoke({"messages": [("user", "Keep adding.")]})
        report("ended by ModelCallLimitMiddleware", capture)

        prompt = ChatPromptTemplate.from_messages(
            [("system", "You add."), ("human", "{input}"), ("placeholder", "{agent_scratchpad}")])
        executor = AgentExecutor(agent=create_tool_calling_agent(llm, [add], prompt),
                                 tools=[add], max_iterations=2)
        executor.invoke({"input": "Keep adding."})
        report("classic AgentExecutor stopped by max_iterations=2", capture)
        obs_langchain.uninstrument()


if __name__ == "__main__":
    main()
