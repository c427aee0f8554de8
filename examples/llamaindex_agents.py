"""LlamaIndex workflow agents traced by obs, offline: step counts, tool calls, the step limit.

Three runs against obs's scripted OpenAI-compatible server:

1. a FunctionAgent that calls two tools, then answers;
2. the same agent with ``max_iterations=2`` and ``early_stopping_method="generate"``: it stops
   at the limit and answers anyway (``obs.agent.max_iterations_reached`` is true, status OK);
3. a multi-agent AgentWorkflow where a triage agent hands off to a calculator: one
   ``invoke_agent`` span per agent turn under the ``invoke_workflow`` span.

Run: python examples/llamaindex_agents.py
"""

from __future__ import annotations

import asyncio

from llama_index.core.agent.workflow import AgentWorkflow, FunctionAgent
from llama_index.llms.openai import OpenAI

import obs_llamaindex
from obs_core.testing import ScriptedOpenAIServer, ScriptedReply, SpanCapture, capture_spans


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


def report(title: str, capture: SpanCapture) -> None:
    print(f"== {title}\n{capture.format_tree()}\n{capture.format_agents()}\n")
    capture.clear()


async def main() -> None:
    with ScriptedOpenAIServer() as server, capture_spans() as capture:
        handle = obs_llamaindex.instrument(tracer_provider=capture.tracer_provider)
        llm = OpenAI(model="gpt-4o-mini", api_key="sk-offline", api_base=server.base_url)
        calculator = FunctionAgent(name="calculator", description="Does arithmetic.",
                                   tools=[add, multiply], llm=llm, streaming=False)

        server.enqueue(ScriptedReply.tool_call("add", {"a": 2, "b": 3}),
                       ScriptedReply.tool_call("multiply", {"a": 5, "b": 4}),
                       ScriptedReply.text("(2 + 3) * 4 = 20."))
        await calculator.run(user_msg="What is (2 + 3) * 4?")
        report("two tool calls, then an answer", capture)

        server.enqueue(ScriptedReply.tool_call("add", {"a": 2, "b": 3}),
                       ScriptedReply.tool_call("multiply", {"a": 5, "b": 4}),
                       ScriptedReply.text("I ran out of steps; so far: 2 + 3 = 5."))
        await calculator.run(user_msg="What is (2 + 3) * 4?", max_iterations=2,
                             early_stopping_method="generate")
        report("stopped at max_iterations=2, answering anyway", capture)

        triage = FunctionAgent(name="triage", description="Routes questions.", llm=llm,
                               tools=[], can_handoff_to=["calculator"], streaming=False)
        server.enqueue(ScriptedReply.tool_call("handoff", {"to_agent": "calculator",
                                                           "reason": "arithmetic"}),
                       ScriptedReply.tool_call("add", {"a": 2, "b": 3}),
                       ScriptedReply.text("2 + 3 = 5."))
        await AgentWorkflow(agents=[triage, calculator], root_agent="triage").run(
            user_msg="What is 2 + 3?")
        report("multi-agent handoff", capture)
        handle.uninstrument()


if __name__ == "__main__":
    asyncio.run(main())
