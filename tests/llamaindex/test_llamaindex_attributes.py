"""The pure readers and mapping functions, on the shapes providers and LlamaIndex hand over."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from llama_index.core.agent.workflow.workflow_events import AgentWorkflowStartEvent
from llama_index.core.base.llms.types import ChatMessage, ChatResponse, ToolCallBlock
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
from llama_index.core.tools.types import ToolOutput
from workflows.errors import WorkflowCancelledByUser, WorkflowRuntimeError

from obs_core import RunStart, SpanKind, TokenUsage
from obs_llamaindex import _attributes as a
from obs_llamaindex import _readers as r
from obs_llamaindex._framework import framework


def test_span_qualname_drops_the_dispatchers_uuid_suffix() -> None:
    assert r.span_qualname("RetrieverQueryEngine.query-0acd2efd-5828-49ec-acae-5b01e57ef123") == \
        "RetrieverQueryEngine.query"
    assert r.span_qualname("no-suffix") == "no-suffix"


def test_provider_comes_from_the_integration_package_of_the_class() -> None:
    anthropic = type("Anthropic", (), {"__module__": "llama_index.llms.anthropic.base"})
    custom = type("Mine", (), {"__module__": "myapp.models"})
    vendor = type("Other", (), {"__module__": "llama_index.llms.somevendor.base"})

    assert r.provider_of(anthropic) == "anthropic"
    assert r.provider_of(custom) is None
    assert r.provider_of(vendor) == "somevendor"


def test_openai_usage_includes_cache_and_reasoning_details() -> None:
    raw = {"usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120,
                     "prompt_tokens_details": {"cached_tokens": 64},
                     "completion_tokens_details": {"reasoning_tokens": 8}}}

    assert r.usage_of(raw) == TokenUsage(input_tokens=100, output_tokens=20, total_tokens=120,
                                         cache_read_tokens=64, reasoning_tokens=8)


def test_anthropic_style_usage_counts_cached_input_as_input() -> None:
    raw = SimpleNamespace(usage=SimpleNamespace(input_tokens=10, output_tokens=5,
                                                cache_read_input_tokens=90,
                                                cache_creation_input_tokens=0))

    usage = r.usage_of(raw)

    assert usage is not None
    assert (usage.input_tokens, usage.cache_read_tokens, usage.output_tokens) == (100, 90, 5)


def test_usage_falls_back_to_the_counts_llamaindex_copied_and_else_is_none() -> None:
    assert r.usage_of(None, {"prompt_tokens": 7, "completion_tokens": 3}) == TokenUsage(
        input_tokens=7, output_tokens=3)
    assert r.usage_of({"usage": None}, {}) is None
    assert r.usage_of({"usage": {"prompt_tokens": "many"}}) is None


def test_request_params_merge_llm_fields_its_extra_kwargs_and_the_call() -> None:
    llm = SimpleNamespace(temperature=0.2, max_tokens=None,
                          additional_kwargs={"seed": 1, "stop": "END", "top_p": True})

    params = r.request_params(llm, {"temperature": 0.7, "max_completion_tokens": 64}, stream=True)

    assert params == {"temperature": 0.7, "seed": 1, "stop_sequences": ["END"],
                      "max_tokens": 64, "stream": True}


def test_llm_end_reads_response_facts_and_keeps_tool_calls_in_outputs() -> None:
    message = ChatMessage(role="assistant", blocks=[
        ToolCallBlock(tool_call_id="c1", tool_name="add", tool_kwargs={"a": 1})])
    raw = {"id": "r-1", "model": "gpt-x-2026", "choices": [{"finish_reason": "tool_calls"}]}

    end = a.llm_end(ChatResponse(message=message, raw=raw), capture=True)

    assert (end.response_id, end.response_model, end.finish_reasons) == ("r-1", "gpt-x-2026", ["tool_calls"])
    assert end.outputs == [{"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "name": "add", "arguments": {"a": 1}}]}]


def test_llm_end_without_capture_builds_no_payload() -> None:
    end = a.llm_end(ChatResponse(message=ChatMessage(role="assistant", content="hi")), capture=False)

    assert end.outputs is None


def test_streamed_finish_reason_is_used_when_the_last_chunk_has_none() -> None:
    end = a.llm_end(ChatResponse(message=ChatMessage(content="x"), raw={"choices": []}),
                    streamed_finish_reasons=["stop"], capture=False)

    assert end.finish_reasons == ["stop"]


def test_retrieved_documents_keep_ids_and_scores_and_text_only_when_captured() -> None:
    nodes = [NodeWithScore(node=TextNode(id_="n1", text="alpha", metadata={"k": 1}), score=0.9),
             NodeWithScore(node=TextNode(id_="n2", text="beta"), score=None)]

    plain = a.documents_of(nodes, capture=False)
    captured = a.documents_of(nodes, capture=True)

    assert [(d.id, d.score, d.content) for d in plain] == [("n1", 0.9, None), ("n2", None, None)]
    assert [(d.content, d.metadata) for d in captured] == [("alpha", {"k": 1}), ("beta", {})]
    assert a.documents_of("not a list", capture=True) == []


@pytest.mark.parametrize(("result", "count", "dims"), [
    ([0.1, 0.2, 0.3], 1, 3),
    ([[0.1, 0.2], [0.3, 0.4]], 2, 2),
    ([{1: 0.5}], 1, None),
    ([], 0, None),
])
def test_embedding_end_counts_inputs_and_dimensions(result: object, count: int, dims: int | None) -> None:
    end = a.embedding_end(result)

    assert (end.embedding_input_count, end.embedding_dimensions) == (count, dims)


def test_query_text_comes_from_strings_and_query_bundles() -> None:
    assert r.text_of_query("plain") == "plain"
    assert r.text_of_query(QueryBundle(query_str="bundled")) == "bundled"


def test_tool_failure_is_read_from_an_error_tool_output() -> None:
    boom = ValueError("boom")
    failed = ToolOutput(tool_name="t", content="boom", raw_input={}, is_error=True, exception=boom)

    assert a.tool_failure(failed) is boom
    assert a.tool_failure(ToolOutput(tool_name="t", content="fine", raw_input={})) is None
    assert a.tool_failure(ToolOutput(tool_name="t", content="x", raw_input={}, is_error=True)) == "tool_error"


def test_control_flow_is_decided_by_exception_type() -> None:
    types = framework().control_flow

    assert r.is_control_flow(WorkflowCancelledByUser(), types, in_workflow=True)
    assert r.is_control_flow(GeneratorExit(), types, in_workflow=False)
    assert r.is_control_flow(asyncio.CancelledError(), types, in_workflow=True)
    assert not r.is_control_flow(asyncio.CancelledError(), types, in_workflow=False)
    assert not r.is_control_flow(WorkflowRuntimeError("Max iterations"), types, in_workflow=True)


def test_step_limit_is_the_run_argument_else_the_llamaindex_default() -> None:
    default = framework().default_max_iterations

    assert a.step_limit_of(AgentWorkflowStartEvent(user_msg="x", max_iterations=4), default) == 4
    assert a.step_limit_of(AgentWorkflowStartEvent(user_msg="x"), default) == default == 20
    assert a.step_limit_of({"max_iterations": 3}, default) == 3


def test_response_text_reads_llamaindex_results_and_keeps_plain_data() -> None:
    stop = SimpleNamespace(result=SimpleNamespace(response=ChatMessage(content="agent says")))

    assert r.response_text(stop) == "agent says"
    assert r.response_text(SimpleNamespace(response="query says")) == "query says"
    assert r.response_text({"k": "v"}) == {"k": "v"}
    assert r.response_text(object()) is None


def test_identity_is_read_from_prefixed_string_tags_only() -> None:
    tags = {"obs.user_id": "u1", "obs.user_cohort": "", "obs.conversation_id": 5, "other": "x"}

    assert r.identity_from_tags(tags, "obs.") == {"user_id": "u1"}


def test_agent_start_describes_the_agent_and_its_limit() -> None:
    agent = SimpleNamespace(name="helper", description="Helps.", llm=None)

    start = a.agent_start(agent, step_limit=5, early_stopping="generate", start_event=None,
                          capture=False, start_time_ns=None)

    assert isinstance(start, RunStart)
    assert (start.kind, start.name, start.agent_step_limit) == (SpanKind.AGENT, "helper", 5)
    assert start.attributes == {"gen_ai.agent.description": "Helps."}
    assert start.metadata == {"early_stopping_method": "generate"}
