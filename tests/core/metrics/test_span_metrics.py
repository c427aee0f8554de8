"""Metrics derived from finished spans carrying the GenAI and obs attributes."""

from __future__ import annotations

from typing import Any

import pytest

from obs_core import _selfmetrics
from obs_core.metrics import (
    DURATION_BUCKETS,
    TOKEN_BUCKETS,
    MetricsSpanProcessor,
    SpanFacts,
)

LLM = {
    "obs.span.kind": "llm",
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.usage.input_tokens": 120,
    "gen_ai.usage.output_tokens": 30,
    "obs.usage.cost_usd": 0.0025,
    "obs.pipeline.version": "v7",
    "obs.user.cohort": "beta",
}


def test_token_usage_is_a_histogram_per_token_type_with_the_convention_buckets(
        span_maker: Any, collect: Any) -> None:
    span_maker.emit("chat gpt-4o-mini", LLM)
    data = collect()
    inp = data.histogram("gen_ai.client.token.usage", gen_ai__token__type="input")
    out = data.histogram("gen_ai.client.token.usage", gen_ai__token__type="output")
    assert (inp.sum, out.sum) == (120, 30)
    assert tuple(inp.explicit_bounds) == TOKEN_BUCKETS
    assert inp.attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert inp.attributes["gen_ai.provider.name"] == "openai"
    assert inp.attributes["gen_ai.operation.name"] == "chat"


def test_operation_duration_uses_span_timing_and_the_convention_buckets(
        span_maker: Any, collect: Any) -> None:
    span_maker.emit("chat gpt-4o-mini", LLM, duration_s=1.5)
    point = collect().histogram("gen_ai.client.operation.duration")
    assert point.sum == pytest.approx(1.5)
    assert tuple(point.explicit_bounds) == DURATION_BUCKETS
    assert point.bucket_counts[DURATION_BUCKETS.index(2.56)] == 1


def test_time_to_first_chunk_is_recorded_when_present(span_maker: Any, collect: Any) -> None:
    span_maker.emit("chat", {**LLM, "gen_ai.response.time_to_first_chunk": 0.3})
    span_maker.emit("chat", LLM)
    point = collect().histogram("gen_ai.client.operation.time_to_first_chunk")
    assert (point.count, point.sum) == (1, pytest.approx(0.3))


def test_cost_is_a_counter_sliced_by_model_version_and_cohort(span_maker: Any,
                                                              collect: Any) -> None:
    span_maker.emit("chat", LLM)
    span_maker.emit("chat", LLM)
    value = collect().number("obs.usage.cost_usd", gen_ai__request__model="gpt-4o-mini",
                             obs__pipeline__version="v7", obs__user__cohort="beta")
    assert value == pytest.approx(0.005)


def test_failed_model_call_counts_an_error_and_carries_error_type(span_maker: Any,
                                                                  collect: Any) -> None:
    span_maker.emit("chat", {**LLM, "error.type": "openai.RateLimitError"}, error=True)
    span_maker.emit("chat", LLM)
    data = collect()
    assert data.number("obs.errors", error__type="openai.RateLimitError",
                       obs__span__kind="llm") == 1
    assert data.number("obs.runs", obs__span__kind="llm") == 2
    failed = data.histogram("gen_ai.client.operation.duration", error__type="openai.RateLimitError")
    assert failed.count == 1


def test_error_status_without_error_type_is_reported_as_other(span_maker: Any,
                                                              collect: Any) -> None:
    span_maker.emit("my tool", {"obs.span.kind": "tool", "gen_ai.tool.name": "search"},
                    error=True)
    assert collect().number("obs.errors", error__type="_OTHER") == 1


def test_agent_steps_and_limit_hits_are_recorded_per_agent(span_maker: Any,
                                                           collect: Any) -> None:
    agent = {"obs.span.kind": "agent", "gen_ai.agent.name": "planner"}
    span_maker.emit("invoke_agent planner", {**agent, "obs.agent.step_count": 3})
    span_maker.emit("invoke_agent planner", {**agent, "obs.agent.step_count": 10,
                                             "obs.agent.max_iterations_reached": True})
    data = collect()
    steps = data.histogram("obs.agent.steps", gen_ai__agent__name="planner")
    assert (steps.count, steps.sum) == (2, 13)
    assert data.number("obs.agent.limit_hits", gen_ai__agent__name="planner") == 1


def test_tool_calls_and_latency_are_recorded_per_tool(span_maker: Any, collect: Any) -> None:
    tool = {"obs.span.kind": "tool", "gen_ai.operation.name": "execute_tool"}
    span_maker.emit("execute_tool search", {**tool, "gen_ai.tool.name": "search"}, duration_s=0.2)
    span_maker.emit("execute_tool search", {**tool, "gen_ai.tool.name": "search"}, duration_s=0.4)
    span_maker.emit("execute_tool calc", {**tool, "gen_ai.tool.name": "calc"}, duration_s=0.01)
    data = collect()
    assert data.number("obs.tool.calls", gen_ai__tool__name="search") == 2
    latency = data.histogram("obs.tool.duration", gen_ai__tool__name="search")
    assert latency.sum == pytest.approx(0.6)
    assert data.histogram("obs.tool.duration", gen_ai__tool__name="calc").count == 1


def test_retrieval_scores_are_recorded_per_retriever(span_maker: Any, collect: Any) -> None:
    retriever = {"obs.span.kind": "retriever", "gen_ai.operation.name": "retrieval"}
    span_maker.emit("retrieval docs", {**retriever, "gen_ai.data_source.id": "docs",
                                       "obs.retrieval.scores": [0.91, 0.82, 0.4]})
    span_maker.emit("retrieval faq", {**retriever, "gen_ai.data_source.id": "faq",
                                      "obs.retrieval.scores": [0.5]})
    data = collect()
    docs = data.histogram("obs.retrieval.similarity", gen_ai__data_source__id="docs")
    assert (docs.count, docs.sum) == (3, pytest.approx(2.13))
    assert data.histogram("obs.retrieval.similarity", gen_ai__data_source__id="faq").count == 1


def test_spans_of_other_genai_producers_are_measured_by_operation_name(
        span_maker: Any, collect: Any) -> None:
    span_maker.emit("chat claude", {"gen_ai.operation.name": "chat",
                                    "gen_ai.provider.name": "anthropic",
                                    "gen_ai.usage.input_tokens": 7})
    data = collect()
    assert data.histogram("gen_ai.client.token.usage", gen_ai__provider__name="anthropic").sum == 7
    assert data.number("obs.runs", obs__span__kind="llm") == 1


def test_spans_that_are_neither_genai_nor_obs_are_ignored(span_maker: Any, collect: Any) -> None:
    span_maker.emit("GET /health", {"http.request.method": "GET"})
    assert collect().points == {}


def test_listeners_receive_the_parsed_facts_once_per_span(processor: MetricsSpanProcessor,
                                                          span_maker: Any) -> None:
    seen: list[SpanFacts] = []

    class Listener:
        def on_span_facts(self, facts: SpanFacts) -> None:
            seen.append(facts)

    processor.add_listener(Listener())
    span_maker.emit("chat", LLM, duration_s=0.25)
    span_maker.emit("GET /", {})
    assert len(seen) == 1
    facts = seen[0]
    assert (facts.kind, facts.model, facts.pipeline_version) == ("llm", "gpt-4o-mini", "v7")
    assert facts.duration_s == pytest.approx(0.25)
    assert (facts.input_tokens, facts.output_tokens, facts.cost_usd) == (120, 30, 0.0025)


@pytest.mark.lenient
def test_a_failing_listener_is_contained_and_counted(processor: MetricsSpanProcessor,
                                                     span_maker: Any, collect: Any) -> None:
    class Broken:
        def on_span_facts(self, facts: SpanFacts) -> None:
            raise RuntimeError("listener bug")

    processor.add_listener(Broken())
    span_maker.emit("chat", LLM)
    assert _selfmetrics.snapshot()["internal_errors"] == {"metrics.listener": 1}
    assert collect().number("obs.runs") == 1


def test_malformed_attribute_values_are_ignored_not_raised(span_maker: Any, collect: Any) -> None:
    span_maker.emit("chat", {**LLM, "gen_ai.usage.input_tokens": "many",
                             "obs.usage.cost_usd": "free", "obs.retrieval.scores": "high"})
    data = collect()
    assert data.matching("gen_ai.client.token.usage", gen_ai__token__type="input") == []
    assert "obs.usage.cost_usd" not in data.points
    assert data.number("obs.runs") == 1


def test_a_span_that_is_not_the_sdks_own_is_read_through_its_public_attributes() -> None:
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.trace import SpanContext, TraceFlags

    from obs_core.metrics._facts import span_facts

    context = SpanContext(trace_id=7, span_id=9, is_remote=False,
                          trace_flags=TraceFlags(TraceFlags.SAMPLED))
    attributes: dict[str, Any] = dict(LLM)
    plain = ReadableSpan(name="chat", context=context, attributes=attributes,
                         start_time=1_000_000_000, end_time=1_500_000_000)

    facts = span_facts(plain)

    assert facts is not None
    assert (facts.kind, facts.model, facts.input_tokens, facts.user_cohort) == (
        "llm", "gpt-4o-mini", 120, "beta")
    assert facts.duration_s == pytest.approx(0.5)
