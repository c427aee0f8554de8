"""Workflow agents: invoke_agent spans with their steps, tools, step limit and stop reason."""

from __future__ import annotations

import json
import logging

import pytest
from llama_index.core.agent.workflow import AgentWorkflow, FunctionAgent
from llama_index.core.workflow import WorkflowRuntimeError
from llama_index.llms.openai import OpenAI
from opentelemetry import trace
from opentelemetry.trace import StatusCode

import obs_llamaindex
from llamaindex._support import assert_tokens_match_server, attrs, of_kind
from obs_core import semconv as sc
from obs_core.testing import ScriptedOpenAIServer, ScriptedReply, SpanCapture

# LlamaIndex finds an agent's workflow steps with ``inspect.getmembers``, which touches pydantic's
# deprecated attributes (``__fields__``...) of the agent model.
pytestmark = pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecationWarning:inspect")


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


def _calculator(llm: OpenAI) -> FunctionAgent:
    return FunctionAgent(name="calculator", description="Does arithmetic.", tools=[add, multiply],
                         llm=llm, streaming=False)


def _two_tool_calls_then_answer(server: ScriptedOpenAIServer) -> None:
    server.enqueue(
        ScriptedReply.tool_call("add", {"a": 2, "b": 3}, call_id="call_add"),
        ScriptedReply.tool_call("multiply", {"a": 5, "b": 4}, call_id="call_mul"),
        ScriptedReply.text("The result is 20."),
    )


def _assert_llm_tokens_match(capture: SpanCapture, server: ScriptedOpenAIServer) -> None:
    llm_spans = of_kind(capture, "llm")
    assert len(llm_spans) == len(server.usage_log)
    for span in llm_spans:
        assert_tokens_match_server(span, server.usage_log)


async def test_function_agent_making_two_tool_calls_then_answering(
    instrumented: obs_llamaindex.Instrumentation, capture: SpanCapture, server: ScriptedOpenAIServer,
    llm: OpenAI,
) -> None:
    _two_tool_calls_then_answer(server)

    result = await _calculator(llm).run(user_msg="What is (2 + 3) * 4?")

    assert str(result) == "The result is 20."
    assert capture.tree() == [
        (0, "invoke_agent calculator"),
        (1, "chat gpt-4o-mini"),
        (1, "execute_tool add"),
        (1, "chat gpt-4o-mini"),
        (1, "execute_tool multiply"),
        (1, "chat gpt-4o-mini"),
    ]
    agent = attrs(capture.one("invoke_agent calculator"))
    assert agent[sc.OBS_SPAN_KIND] == "agent"
    assert agent[sc.GEN_AI_AGENT_NAME] == "calculator"
    assert agent[sc.GEN_AI_AGENT_DESCRIPTION] == "Does arithmetic."
    assert agent[sc.OBS_AGENT_STEP_COUNT] == 3
    assert agent[sc.OBS_AGENT_STEP_LIMIT] == 20  # LlamaIndex's default max_iterations
    assert agent[sc.OBS_AGENT_MAX_ITERATIONS_REACHED] is False
    assert agent[sc.OBS_AGENT_STOP_REASON] == "final_answer"
    assert agent[sc.OBS_AGENT_TOOL_CALL_COUNT] == 2
    per_tool = json.loads(agent[sc.OBS_AGENT_TOOL_CALLS])
    assert {name: stats["count"] for name, stats in per_tool.items()} == {"add": 1, "multiply": 1}
    assert all(stats["total_ms"] > 0 for stats in per_tool.values())
    assert agent[sc.OBS_ROLLUP_INPUT_TOKENS] == sum(u.prompt_tokens for u in server.usage_log)
    assert agent[sc.OBS_ROLLUP_OUTPUT_TOKENS] == sum(u.completion_tokens for u in server.usage_log)
    assert agent[sc.OBS_ROLLUP_COST_USD] > 0
    tool = attrs(capture.one("execute_tool add"))
    assert tool[sc.OBS_SPAN_KIND] == "tool"
    assert tool[sc.GEN_AI_TOOL_CALL_ID] == "call_add"
    assert "Add two integers." in tool[sc.GEN_AI_TOOL_DESCRIPTION]
    _assert_llm_tokens_match(capture, server)
    assert instrumented.recorder.open_run_count == 0


async def test_agent_exceeding_max_iterations_with_force_stopping_ends_in_error_at_the_limit(
    instrumented: obs_llamaindex.Instrumentation, capture: SpanCapture, server: ScriptedOpenAIServer,
    llm: OpenAI,
) -> None:
    _two_tool_calls_then_answer(server)

    with pytest.raises(WorkflowRuntimeError):
        await _calculator(llm).run(user_msg="What is (2 + 3) * 4?", max_iterations=2,
                                   early_stopping_method="force")

    assert capture.tree() == [
        (0, "invoke_agent calculator"),
        (1, "chat gpt-4o-mini"),
        (1, "execute_tool add"),
        (1, "chat gpt-4o-mini"),
    ]
    span = capture.one("invoke_agent calculator")
    agent = attrs(span)
    assert span.status.status_code is StatusCode.ERROR
    assert agent[sc.ERROR_TYPE] == "workflows.errors.WorkflowRuntimeError"
    assert agent[sc.OBS_AGENT_STEP_LIMIT] == 2
    assert agent[sc.OBS_AGENT_STEP_COUNT] == 2
    assert agent[sc.OBS_AGENT_MAX_ITERATIONS_REACHED] is True
    assert agent[sc.OBS_AGENT_STOP_REASON] == "max_iterations"
    assert agent[sc.OBS_AGENT_TOOL_CALL_COUNT] == 1
    assert agent["obs.metadata.early_stopping_method"] == "force"
    _assert_llm_tokens_match(capture, server)
    assert instrumented.recorder.open_run_count == 0


async def test_agent_exceeding_max_iterations_with_generate_stopping_answers_at_the_limit(
    instrumented: obs_llamaindex.Instrumentation, capture: SpanCapture, server: ScriptedOpenAIServer,
    llm: OpenAI,
) -> None:
    server.enqueue(
        ScriptedReply.tool_call("add", {"a": 2, "b": 3}),
        ScriptedReply.tool_call("multiply", {"a": 5, "b": 4}),
        ScriptedReply.text("Stopping early: the sum is 5."),
    )

    result = await _calculator(llm).run(user_msg="What is (2 + 3) * 4?", max_iterations=2,
                                        early_stopping_method="generate")

    assert str(result) == "Stopping early: the sum is 5."
    assert capture.tree() == [
        (0, "invoke_agent calculator"),
        (1, "chat gpt-4o-mini"),
        (1, "execute_tool add"),
        (1, "chat gpt-4o-mini"),
        (1, "chat gpt-4o-mini"),  # the final answer LlamaIndex asks for at the limit
    ]
    span = capture.one("invoke_agent calculator")
    agent = attrs(span)
    assert span.status.status_code is StatusCode.OK
    assert agent[sc.OBS_AGENT_STEP_LIMIT] == 2
    assert agent[sc.OBS_AGENT_STEP_COUNT] == 3
    assert agent[sc.OBS_AGENT_MAX_ITERATIONS_REACHED] is True
    assert agent[sc.OBS_AGENT_STOP_REASON] == "max_iterations"
    assert agent[sc.OBS_ROLLUP_TOTAL_TOKENS] == sum(u.total_tokens for u in server.usage_log)
    _assert_llm_tokens_match(capture, server)
    assert instrumented.recorder.open_run_count == 0


async def test_multi_agent_handoff_gives_each_agent_its_own_span(
    instrumented: obs_llamaindex.Instrumentation, capture: SpanCapture, server: ScriptedOpenAIServer,
    llm: OpenAI,
) -> None:
    server.enqueue(
        ScriptedReply.tool_call("handoff", {"to_agent": "calculator", "reason": "arithmetic"}),
        ScriptedReply.tool_call("add", {"a": 2, "b": 3}),
        ScriptedReply.text("2 + 3 = 5."),
    )
    triage = FunctionAgent(name="triage", description="Routes questions.", llm=llm, tools=[],
                           can_handoff_to=["calculator"])
    calculator = FunctionAgent(name="calculator", description="Does arithmetic.", llm=llm,
                               tools=[add])
    workflow = AgentWorkflow(agents=[triage, calculator], root_agent="triage")

    result = await workflow.run(user_msg="What is 2 + 3?", max_iterations=5)

    assert str(result) == "2 + 3 = 5."
    assert capture.tree() == [
        (0, "invoke_workflow AgentWorkflow"),
        (1, "invoke_agent triage"),
        (2, "chat gpt-4o-mini"),
        (2, "execute_tool handoff"),
        (1, "invoke_agent calculator"),
        (2, "chat gpt-4o-mini"),
        (2, "execute_tool add"),
        (2, "chat gpt-4o-mini"),
    ]
    first, second = attrs(capture.one("invoke_agent triage")), attrs(capture.one("invoke_agent calculator"))
    assert (first[sc.OBS_AGENT_STEP_COUNT], second[sc.OBS_AGENT_STEP_COUNT]) == (1, 2)
    assert (first[sc.OBS_AGENT_STOP_REASON], second[sc.OBS_AGENT_STOP_REASON]) == ("handoff", "final_answer")
    assert first[sc.OBS_AGENT_MAX_ITERATIONS_REACHED] is second[sc.OBS_AGENT_MAX_ITERATIONS_REACHED] is False
    assert first[sc.OBS_AGENT_STEP_LIMIT] == second[sc.OBS_AGENT_STEP_LIMIT] == 5
    assert json.loads(first[sc.OBS_AGENT_TOOL_CALLS])["handoff"]["count"] == 1
    assert json.loads(second[sc.OBS_AGENT_TOOL_CALLS])["add"]["count"] == 1
    workflow_span = attrs(capture.one("invoke_workflow AgentWorkflow"))
    assert workflow_span[sc.GEN_AI_WORKFLOW_NAME] == "AgentWorkflow"
    assert workflow_span[sc.OBS_ROLLUP_LLM_CALLS] == 3
    assert workflow_span[sc.OBS_ROLLUP_INPUT_TOKENS] == sum(u.prompt_tokens for u in server.usage_log)
    _assert_llm_tokens_match(capture, server)
    assert instrumented.recorder.open_run_count == 0


async def test_spans_opened_inside_a_tool_nest_under_the_tool_span(
    instrumented: obs_llamaindex.Instrumentation, capture: SpanCapture, server: ScriptedOpenAIServer,
    llm: OpenAI, caplog: pytest.LogCaptureFixture,
) -> None:
    tracer = capture.tracer_provider.get_tracer("app")

    def lookup(city: str) -> str:
        """Look a city up in the application's own database."""
        with tracer.start_as_current_span("db.query"):
            return f"{city}: 2.1 million people"

    server.enqueue(ScriptedReply.tool_call("lookup", {"city": "Paris"}), ScriptedReply.text("Done."))
    agent = FunctionAgent(name="librarian", description="Looks things up.", tools=[lookup],
                          llm=llm, streaming=False)

    with caplog.at_level(logging.DEBUG):
        await agent.run(user_msg="How many people live in Paris?")

    db = capture.one("db.query")
    assert capture.parent(db) == capture.one("execute_tool lookup")
    assert not trace.get_current_span().get_span_context().is_valid  # nothing left attached
    assert "Failed to detach context" not in caplog.text
    assert instrumented.recorder.open_run_count == 0


async def test_agent_run_inside_a_callers_span_joins_its_trace(
    instrumented: obs_llamaindex.Instrumentation, capture: SpanCapture, server: ScriptedOpenAIServer,
    llm: OpenAI,
) -> None:
    server.enqueue(ScriptedReply.text("Hello."))
    tracer = capture.tracer_provider.get_tracer("app")

    with tracer.start_as_current_span("http.request"):
        await _calculator(llm).run(user_msg="Say hello.")

    request = capture.one("http.request")
    assert capture.parent(capture.one("invoke_agent calculator")) == request
    assert attrs(capture.one("invoke_agent calculator"))[sc.OBS_ROOT] is True


async def test_failing_tool_is_an_error_span_counted_for_its_agent(
    instrumented: obs_llamaindex.Instrumentation, capture: SpanCapture, server: ScriptedOpenAIServer,
    llm: OpenAI,
) -> None:
    def explode() -> str:
        """Always fails."""
        raise ValueError("tool blew up")

    server.enqueue(ScriptedReply.tool_call("explode", {}), ScriptedReply.text("The tool failed."))
    agent = FunctionAgent(name="careful", description="Copes.", tools=[explode], llm=llm,
                          streaming=False)

    assert str(await agent.run(user_msg="Try it.")) == "The tool failed."

    tool = capture.one("execute_tool explode")
    assert tool.status.status_code is StatusCode.ERROR
    assert attrs(tool)[sc.ERROR_TYPE] == "ValueError"
    agent_span = attrs(capture.one("invoke_agent careful"))
    assert json.loads(agent_span[sc.OBS_AGENT_TOOL_CALLS])["explode"]["errors"] == 1
    assert agent_span[sc.OBS_ROLLUP_ERRORS] == 1
    assert instrumented.recorder.open_run_count == 0
