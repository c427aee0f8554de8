"""Agent accounting: model calls are steps, tool calls are actions, tokens and cost roll up."""

from __future__ import annotations

import json
import uuid

from opentelemetry.trace import StatusCode

from _obs_support import Spans, attrs
from obs_core import Recorder, RunEnd, RunStart, SpanKind, TokenUsage
from obs_core import semconv as sc


def _id() -> uuid.UUID:
    return uuid.uuid4()


def _llm(recorder: Recorder, parent: uuid.UUID, tokens: tuple[int, int], model: str = "gpt-4o-mini") -> None:
    run = _id()
    recorder.start(run, parent, RunStart(kind=SpanKind.LLM, name=model, model=model))
    recorder.end(run, RunEnd(usage=TokenUsage(input_tokens=tokens[0], output_tokens=tokens[1])))


def _tool(recorder: Recorder, parent: uuid.UUID, name: str, *, fail: bool = False) -> None:
    run = _id()
    recorder.start(run, parent, RunStart(kind=SpanKind.TOOL, name=name))
    if fail:
        recorder.error(run, RuntimeError("tool failed"))
    else:
        recorder.end(run)


def test_agent_counts_model_calls_as_steps_and_tools_per_name(recorder: Recorder, spans: Spans) -> None:
    agent = _id()
    recorder.start(agent, None, RunStart(kind=SpanKind.AGENT, name="helper", agent_step_limit=10))
    _llm(recorder, agent, (100, 10))
    _tool(recorder, agent, "search")
    _llm(recorder, agent, (150, 10))
    _tool(recorder, agent, "search")
    _tool(recorder, agent, "calc", fail=True)
    _llm(recorder, agent, (200, 40))
    recorder.end(agent, RunEnd(stop_reason="final_answer"))
    attrs = spans.attrs("invoke_agent helper")
    assert attrs[sc.OBS_AGENT_STEP_COUNT] == 3
    assert attrs[sc.OBS_AGENT_STEP_LIMIT] == 10
    assert attrs[sc.OBS_AGENT_MAX_ITERATIONS_REACHED] is False
    assert attrs[sc.OBS_AGENT_STOP_REASON] == "final_answer"
    assert attrs[sc.OBS_AGENT_TOOL_CALL_COUNT] == 3
    per_tool = json.loads(str(attrs[sc.OBS_AGENT_TOOL_CALLS]))
    assert per_tool["search"]["count"] == 2
    assert per_tool["calc"] == {**per_tool["calc"], "count": 1, "errors": 1}
    assert attrs[sc.OBS_ROLLUP_INPUT_TOKENS] == 450
    assert attrs[sc.OBS_ROLLUP_OUTPUT_TOKENS] == 60
    assert attrs[sc.OBS_ROLLUP_COST_USD] == (450 * 0.15 + 60 * 0.60) / 1e6


def test_model_calls_nested_in_chains_still_count_for_the_agent(recorder: Recorder, spans: Spans) -> None:
    agent, node = _id(), _id()
    recorder.start(agent, None, RunStart(kind=SpanKind.AGENT, name="graph-agent"))
    recorder.start(node, agent, RunStart(kind=SpanKind.CHAIN, name="model"))
    _llm(recorder, node, (10, 1))
    recorder.end(node)
    recorder.end(agent)
    assert spans.attrs("invoke_agent graph-agent")[sc.OBS_AGENT_STEP_COUNT] == 1


def test_nested_agent_steps_belong_to_the_inner_agent_but_tokens_roll_up_to_both(
        recorder: Recorder, spans: Spans) -> None:
    outer, inner = _id(), _id()
    recorder.start(outer, None, RunStart(kind=SpanKind.AGENT, name="supervisor"))
    _llm(recorder, outer, (10, 1))
    recorder.start(inner, outer, RunStart(kind=SpanKind.AGENT, name="researcher"))
    _llm(recorder, inner, (20, 2))
    _llm(recorder, inner, (30, 3))
    recorder.end(inner)
    recorder.end(outer)
    outer_attrs = spans.attrs("invoke_agent supervisor")
    inner_attrs = spans.attrs("invoke_agent researcher")
    assert (outer_attrs[sc.OBS_AGENT_STEP_COUNT], inner_attrs[sc.OBS_AGENT_STEP_COUNT]) == (1, 2)
    assert outer_attrs[sc.OBS_ROLLUP_INPUT_TOKENS] == 60
    assert inner_attrs[sc.OBS_ROLLUP_INPUT_TOKENS] == 50


def test_graceful_stop_at_the_limit_is_ok_with_limit_reached(recorder: Recorder, spans: Spans) -> None:
    agent = _id()
    recorder.start(agent, None, RunStart(kind=SpanKind.AGENT, name="a", agent_step_limit=2))
    _llm(recorder, agent, (1, 1))
    _llm(recorder, agent, (1, 1))
    recorder.end(agent, RunEnd(max_iterations_reached=True))
    span = spans.named("invoke_agent a")
    assert span.status.status_code is StatusCode.OK
    assert attrs(span)[sc.OBS_AGENT_MAX_ITERATIONS_REACHED] is True
    assert attrs(span)[sc.OBS_AGENT_STOP_REASON] == "max_iterations"


def test_limit_error_is_an_error_with_limit_reached(recorder: Recorder, spans: Spans) -> None:
    class RecursionLimit(Exception):
        pass

    agent = _id()
    recorder.start(agent, None, RunStart(kind=SpanKind.AGENT, name="a"))
    recorder.set_step_limit(agent, 3)
    recorder.error(agent, RecursionLimit("limit"), limit_reached=True, stop_reason="recursion_limit")
    span = spans.named("invoke_agent a")
    assert span.status.status_code is StatusCode.ERROR
    assert attrs(span)[sc.OBS_AGENT_MAX_ITERATIONS_REACHED] is True
    assert attrs(span)[sc.OBS_AGENT_STEP_LIMIT] == 3
    assert attrs(span)[sc.OBS_AGENT_STOP_REASON] == "recursion_limit"


def test_root_span_carries_rollups_of_the_whole_run(recorder: Recorder, spans: Spans) -> None:
    root, agent = _id(), _id()
    recorder.start(root, None, RunStart(kind=SpanKind.CHAIN, name="pipeline"))
    _llm(recorder, root, (5, 5))
    recorder.start(agent, root, RunStart(kind=SpanKind.AGENT, name="a"))
    _llm(recorder, agent, (7, 3))
    _tool(recorder, agent, "t")
    recorder.end(agent)
    recorder.end(root)
    attrs = spans.attrs("pipeline")
    assert attrs[sc.OBS_ROLLUP_INPUT_TOKENS] == 12
    assert attrs[sc.OBS_ROLLUP_LLM_CALLS] == 2
    assert attrs[sc.OBS_ROLLUP_TOOL_CALLS] == 1


def test_failed_and_cached_calls_cost_nothing(recorder: Recorder, spans: Spans) -> None:
    agent, failed, cached = _id(), _id(), _id()
    recorder.start(agent, None, RunStart(kind=SpanKind.AGENT, name="a"))
    recorder.start(failed, agent, RunStart(kind=SpanKind.LLM, name="m", model="gpt-4o"))
    recorder.error(failed, TimeoutError())
    recorder.start(cached, agent, RunStart(kind=SpanKind.LLM, name="m", model="gpt-4o"))
    recorder.end(cached, RunEnd(usage=TokenUsage(input_tokens=1000, output_tokens=1000),
                                cached_response=True))
    recorder.end(agent)
    llm_costs = [attrs(s)[sc.OBS_USAGE_COST_USD] for s in spans.all if s.name == "chat gpt-4o"]
    assert llm_costs == [0.0, 0.0]
    agent_attrs = spans.attrs("invoke_agent a")
    assert agent_attrs[sc.OBS_AGENT_STEP_COUNT] == 2
    assert agent_attrs[sc.OBS_ROLLUP_COST_USD] == 0.0
    assert agent_attrs[sc.OBS_ROLLUP_ERRORS] == 1


def test_agent_summary_is_readable_while_the_agent_runs(recorder: Recorder) -> None:
    agent = _id()
    recorder.start(agent, None, RunStart(kind=SpanKind.AGENT, name="a", agent_step_limit=4))
    _llm(recorder, agent, (3, 4))
    _tool(recorder, agent, "lookup")
    summary = recorder.agent_summary(agent)
    assert summary is not None
    assert (summary.step_count, summary.step_limit, summary.tool_call_count) == (1, 4, 1)
    assert summary.usage.total == 7
    recorder.end(agent)
    assert recorder.agent_summary(agent) is None


def test_unknown_model_has_no_cost_attribute(recorder: Recorder, spans: Spans) -> None:
    run = _id()
    recorder.start(run, None, RunStart(kind=SpanKind.LLM, name="x", model="my-private-model"))
    recorder.end(run, RunEnd(usage=TokenUsage(input_tokens=5, output_tokens=5)))
    assert sc.OBS_USAGE_COST_USD not in spans.attrs("chat my-private-model")
