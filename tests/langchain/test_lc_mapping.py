"""The pure mapping functions, one fact at a time."""

from __future__ import annotations

import asyncio

import pytest
from langchain.agents.middleware import ModelCallLimitMiddleware, ToolCallLimitMiddleware
from langchain.agents.middleware.model_call_limit import ModelCallLimitExceededError
from langchain_core.documents import Document
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, Generation, LLMResult
from langgraph.errors import GraphInterrupt, GraphRecursionError, ParentCommand
from langgraph.types import Command

from obs_core import UsageSource
from obs_langchain import _agents, _attributes, _model_attributes


@pytest.mark.parametrize(("metadata", "serialized", "expected"), [
    ({"ls_provider": "openai"}, None, "openai"),
    ({"ls_provider": "azure"}, None, "azure.ai.openai"),
    ({"ls_provider": "google_vertexai"}, None, "gcp.vertex_ai"),
    ({"ls_provider": "bedrock"}, None, "aws.bedrock"),
    ({"ls_provider": "someone_new"}, None, "someone_new"),
    ({}, {"id": ["langchain_anthropic", "chat_models", "ChatAnthropic"]}, "anthropic"),
    ({}, {"id": ["langchain", "chat_models", "azure_openai", "AzureChatOpenAI"]}, "azure.ai.openai"),
    ({}, {"id": ["my_company", "SecretModel"]}, None),
])
def test_provider_comes_from_ls_provider_then_the_integration_module(
        metadata: dict[str, object], serialized: dict[str, object] | None,
        expected: str | None) -> None:
    assert _model_attributes.provider(metadata, serialized) == expected


def test_request_params_use_genai_names_with_ls_metadata_as_fallback() -> None:
    params = {"temperature": 0.3, "max_completion_tokens": 99, "stop": "END", "n": 2,
              "seed": 1, "top_p": None, "stream": True, "tools": [{"x": 1}]}

    mapped = _model_attributes.request_params(params, {"ls_temperature": 0.9, "ls_max_tokens": 5,
                                                 "ls_stop": ["x"]})

    assert mapped == {"temperature": 0.3, "max_tokens": 99, "stop_sequences": ["END"],
                      "choice.count": 2, "seed": 1, "stream": True}


def test_usage_metadata_maps_cache_and_reasoning_details() -> None:
    usage = _model_attributes.usage_of_message({
        "input_tokens": 120, "output_tokens": 30, "total_tokens": 150,
        "input_token_details": {"cache_read": 100, "cache_creation": 7},
        "output_token_details": {"reasoning": 12}})

    assert (usage.input_tokens, usage.output_tokens, usage.total) == (120, 30, 150)
    assert (usage.cache_read_tokens, usage.cache_write_tokens, usage.reasoning_tokens) == (100, 7, 12)
    assert usage.source is UsageSource.PROVIDER


def test_completion_usage_comes_from_llm_output_token_usage() -> None:
    result = LLMResult(generations=[[Generation(text="ok", generation_info={"finish_reason": "length"})]],
                       llm_output={"token_usage": {"prompt_tokens": 8, "completion_tokens": 2,
                                                   "total_tokens": 10},
                                   "model_name": "gpt-3.5-turbo-instruct"})

    end = _model_attributes.model_end(result, payloads=True)

    assert end.usage is not None
    assert (end.usage.input_tokens, end.usage.output_tokens) == (8, 2)
    assert end.response_model == "gpt-3.5-turbo-instruct"
    assert end.finish_reasons == ["length"]
    assert end.outputs == [{"role": "assistant", "content": "ok"}]


def test_langchain_run_message_ids_are_not_response_ids() -> None:
    message = AIMessage(content="hi", id="lc_run--0001")

    end = _model_attributes.model_end(LLMResult(generations=[[ChatGeneration(message=message)]]),
                                payloads=False)

    assert end.response_id is None
    assert end.outputs is None


def test_zero_total_cost_marks_an_answer_from_the_langchain_cache() -> None:
    message = AIMessage(content="hi", usage_metadata={"input_tokens": 3, "output_tokens": 1,
                                                      "total_tokens": 4, "total_cost": 0})

    end = _model_attributes.model_end(LLMResult(generations=[[ChatGeneration(message=message)]]),
                                payloads=False)

    assert end.cached_response is True


def test_message_view_keeps_roles_tool_calls_and_call_ids() -> None:
    ai = AIMessage(content="", tool_calls=[{"name": "add", "args": {"a": 1}, "id": "c1"}])

    assert _model_attributes.message_view(HumanMessage(content="hi")) == {"role": "user", "content": "hi"}
    assert _model_attributes.message_view(ai)["tool_calls"] == [
        {"id": "c1", "name": "add", "arguments": {"a": 1}}]
    assert _model_attributes.message_view(ToolMessage(content="2", tool_call_id="c1")) == {
        "role": "tool", "content": "2", "tool_call_id": "c1"}


def test_retrieved_documents_take_ids_and_scores_from_metadata_when_present() -> None:
    docs = [Document(page_content="a", id="d1", metadata={"relevance_score": 0.9, "src": "x"}),
            Document(page_content="b", metadata={"id": 42, "score": float("nan")}),
            Document(page_content="c", metadata={"similarity_score": True})]

    end = _attributes.retriever_end(docs, payloads=True)

    assert end.documents is not None
    assert [d.id for d in end.documents] == ["d1", "42", None]
    assert [d.score for d in end.documents] == [0.9, None, None]
    assert end.documents[0].metadata == {"relevance_score": 0.9, "src": "x"}
    assert end.documents[0].content == "a"


def test_user_metadata_leaves_out_framework_and_identity_keys() -> None:
    metadata = {"tenant": "acme", "ls_provider": "openai", "langgraph_step": 2,
                "thread_id": "t", "checkpoint_ns": "x", "nested": {"a": 1}}

    assert _attributes.user_metadata(metadata, None) == {"tenant": "acme"}
    assert _attributes.user_metadata(metadata, frozenset({"langgraph_step"})) == {"langgraph_step": 2}
    assert _attributes.identity({"thread_id": "t", "user_id": 5})["conversation_id"] == "t"
    assert _attributes.user_tags(["seq:step:1", "graph:step:3", "mine", "langsmith:hidden"]) == ["mine"]


def test_agent_marker_comes_from_create_agent_metadata_or_lc_agent_name() -> None:
    assert _agents.graph_marker({"ls_integration": "langchain_create_agent"}) is not None
    assert _agents.graph_marker({"ls_integration": "langgraph", "lc_agent_name": "x"}) is not None
    assert _agents.graph_marker({"ls_integration": "langgraph"}) is None
    parent = _agents.AgentRun(run_id=1, marker=("langchain_create_agent", "outer"))
    assert not _agents.starts_graph_agent(("langchain_create_agent", "outer"), parent)
    assert _agents.starts_graph_agent(("langchain_create_agent", "inner"), parent)


def test_limit_middleware_nodes_that_jump_to_the_end_are_limit_stops() -> None:
    model_node = f"{ModelCallLimitMiddleware.__name__}.before_model"
    tool_node = f"{ToolCallLimitMiddleware.__name__}[search].after_model"

    assert _agents.node_limit_stop(model_node, {"jump_to": "end"}) == "model_call_limit"
    assert _agents.node_limit_stop(tool_node, {"jump_to": "end"}) == "tool_call_limit"
    assert _agents.node_limit_stop(model_node, {"run_model_call_count": 1}) is None
    assert _agents.node_limit_stop("SummarizationMiddleware.before_model", {"jump_to": "end"}) is None


@pytest.mark.parametrize(("error", "expected"), [
    (asyncio.CancelledError(), _agents.Outcome(cancelled=True, stop_reason="cancelled")),
    (GeneratorExit(), _agents.Outcome(cancelled=True, stop_reason="cancelled")),
    (GraphInterrupt(), _agents.Outcome(control_flow=True, stop_reason="interrupted")),
    (ParentCommand(Command(goto="x")), _agents.Outcome(control_flow=True, stop_reason="handoff")),
    (GraphRecursionError("limit"), _agents.Outcome(limit_reached=True, stop_reason="recursion_limit")),
    (ModelCallLimitExceededError(3, 3, None, 3),
     _agents.Outcome(limit_reached=True, stop_reason="model_call_limit", step_limit=3)),
    (ValueError("boom"), _agents.Outcome()),
])
def test_errors_are_classified_by_exception_type(error: BaseException,
                                                 expected: _agents.Outcome) -> None:
    assert _agents.classify(error) == expected


def test_executor_rounds_reaching_max_iterations_are_a_limit_stop() -> None:
    agent = _agents.AgentRun(run_id=1, executor=True, max_iterations=2)
    for _ in range(2):
        agent.model_calls += 1
        _agents.executor_action(agent, "search")

    assert agent.rounds == 2
    assert _agents.executor_finish(agent) == (True, "max_iterations")


def test_executor_answer_after_a_model_call_within_the_limit_is_final() -> None:
    agent = _agents.AgentRun(run_id=1, executor=True, max_iterations=3)
    agent.model_calls += 1
    _agents.executor_action(agent, "search")
    agent.model_calls += 1

    assert _agents.executor_finish(agent) == (False, "final_answer")


def test_executor_direct_return_tool_is_not_a_limit_stop() -> None:
    agent = _agents.AgentRun(run_id=1, executor=True, max_iterations=1,
                             return_direct=frozenset({"lookup"}))
    agent.model_calls += 1
    _agents.executor_action(agent, "lookup")

    assert _agents.executor_finish(agent) == (False, "tool_return_direct")
