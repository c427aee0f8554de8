"""What a trace summary says about the spans the SDK exported into the store."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, format_trace_id

from core.store.store_scenarios import MS, TraceBuilder, at
from obs_core import semconv as sc
from obs_core.store import SQLiteTraceStore, TraceStatus, TraceSummary


def summary_of(store: SQLiteTraceStore, trace_id: str) -> TraceSummary:
    summary = store.get_summary(trace_id)
    assert summary is not None
    return summary


def test_root_is_the_users_span_that_encloses_the_obs_root(
    store: SQLiteTraceStore, traces: TraceBuilder
) -> None:
    summary = summary_of(store, traces.agent_run())

    assert summary.root_name == "handle_request"
    assert summary.root_kind is None
    assert (summary.start_time_ns, summary.end_time_ns) == (at(0), at(500))
    assert summary.duration_ns == 500 * MS


def test_root_is_the_obs_root_when_the_trace_began_in_another_process(
    store: SQLiteTraceStore, traces: TraceBuilder
) -> None:
    remote = SpanContext(trace_id=0xABC, span_id=0xDEF, is_remote=True,
                         trace_flags=TraceFlags(TraceFlags.SAMPLED))
    incoming = trace.set_span_in_context(NonRecordingSpan(remote))
    with traces.span("validate input", start_ms=0, end_ms=5, context=incoming):
        pass
    with traces.span("invoke_agent triage", start_ms=10, end_ms=90, context=incoming,
                     attributes={sc.OBS_SPAN_KIND: "agent", sc.OBS_ROOT: True}):
        pass

    summary = summary_of(store, format_trace_id(0xABC))

    assert summary.root_name == "invoke_agent triage"
    assert summary.root_kind == "agent"
    assert summary.span_count == 2


def test_tokens_and_cost_come_from_model_spans_only(
    store: SQLiteTraceStore, traces: TraceBuilder
) -> None:
    summary = summary_of(store, traces.agent_run())

    # three calls of 100 in / 20 out at $0.001; the agent's roll-up (300/60/$0.003) is not added
    assert (summary.input_tokens, summary.output_tokens) == (300, 60)
    assert summary.total_tokens == 360
    assert abs(summary.cost_usd - 0.003) < 1e-12


def test_embedding_tokens_count_towards_the_trace(
    store: SQLiteTraceStore, traces: TraceBuilder
) -> None:
    embedding = {
        sc.OBS_SPAN_KIND: "embedding", sc.GEN_AI_REQUEST_MODEL: "text-embedding-3-small",
        sc.GEN_AI_USAGE_INPUT_TOKENS: 42, sc.OBS_USAGE_COST_USD: 0.0001,
    }
    with traces.span("index documents", start_ms=0, end_ms=50) as root, traces.span(
        "embeddings text-embedding-3-small", start_ms=1, end_ms=20, attributes=embedding
    ):
        pass

    summary = summary_of(store, format_trace_id(root.get_span_context().trace_id))

    assert summary.input_tokens == 42
    assert summary.models == ("text-embedding-3-small",)


def test_a_failed_span_makes_the_trace_an_error(
    store: SQLiteTraceStore, traces: TraceBuilder
) -> None:
    summary = summary_of(store, traces.agent_run())

    assert summary.status is TraceStatus.ERROR
    assert summary.error_count == 1


def test_a_trace_without_failures_is_ok(store: SQLiteTraceStore, traces: TraceBuilder) -> None:
    with traces.span("answer", start_ms=0, end_ms=20) as root:
        traces.llm(start_ms=1)

    summary = summary_of(store, format_trace_id(root.get_span_context().trace_id))

    assert summary.status is TraceStatus.OK
    assert summary.error_count == 0


def test_agent_steps_limit_and_limit_hit_are_summarised(
    store: SQLiteTraceStore, traces: TraceBuilder
) -> None:
    hit = summary_of(store, traces.agent_run(step_limit=3, limit_hit=True))
    fine = summary_of(store, traces.agent_run(step_limit=10, limit_hit=False, start_ms=1000))

    assert (hit.agent_steps, hit.agent_step_limit, hit.agent_limit_hit) == (3, 3, True)
    assert (fine.agent_steps, fine.agent_step_limit, fine.agent_limit_hit) == (3, 10, False)


def test_an_agent_limit_error_type_counts_as_limit_hit(
    store: SQLiteTraceStore, traces: TraceBuilder
) -> None:
    with traces.span("invoke_agent planner", start_ms=0, end_ms=30, attributes={
        sc.OBS_SPAN_KIND: "agent", sc.ERROR_TYPE: sc.ERROR_AGENT_LIMIT,
    }) as agent:
        pass

    summary = summary_of(store, format_trace_id(agent.get_span_context().trace_id))

    assert summary.agent_limit_hit is True


def test_models_are_listed_once_in_order_of_first_use(
    store: SQLiteTraceStore, traces: TraceBuilder
) -> None:
    with traces.span("compare", start_ms=0, end_ms=100) as root:
        traces.llm(start_ms=1, model="claude-3-5-haiku")
        traces.llm(start_ms=20, model="gpt-4o")
        traces.llm(start_ms=40, model="claude-3-5-haiku")

    summary = summary_of(store, format_trace_id(root.get_span_context().trace_id))

    assert summary.models == ("claude-3-5-haiku", "gpt-4o")


def test_session_pipeline_version_and_service_are_taken_from_the_spans(
    store: SQLiteTraceStore, traces: TraceBuilder
) -> None:
    summary = summary_of(store, traces.agent_run(session="s-42", pipeline_version="2024.06"))

    assert summary.session_id == "s-42"
    assert summary.pipeline_version == "2024.06"
    assert summary.service_name == "support-bot"


def test_conversation_id_stands_in_for_a_missing_session_id(
    store: SQLiteTraceStore, traces: TraceBuilder
) -> None:
    with traces.span("chat turn", start_ms=0, end_ms=10,
                     attributes={sc.GEN_AI_CONVERSATION_ID: "conv-9"}) as root:
        pass

    summary = summary_of(store, format_trace_id(root.get_span_context().trace_id))

    assert summary.session_id == "conv-9"


def test_summary_counts_every_span_of_the_trace(
    store: SQLiteTraceStore, traces: TraceBuilder
) -> None:
    # request, agent, 3 model calls, 2 tool calls, 1 retrieval
    assert summary_of(store, traces.agent_run()).span_count == 8


def test_summary_follows_spans_arriving_child_first(
    store: SQLiteTraceStore, traces: TraceBuilder
) -> None:
    # SimpleSpanProcessor exports each span as it ends: children reach the store first.
    with traces.span("pipeline", start_ms=0, end_ms=100) as root:
        traces.llm(start_ms=10)
        trace_id = format_trace_id(root.get_span_context().trace_id)
        before_root = summary_of(store, trace_id)

    after_root = summary_of(store, trace_id)

    assert (before_root.root_name, before_root.span_count) == ("chat gpt-4o-mini", 1)
    assert (after_root.root_name, after_root.span_count) == ("pipeline", 2)
    assert after_root.input_tokens == 100


def test_exporting_a_span_twice_does_not_count_it_twice(
    store: SQLiteTraceStore, traces: TraceBuilder
) -> None:
    trace_id = traces.agent_run()
    spans = store.get_trace(trace_id)

    store.write(spans)

    summary = summary_of(store, trace_id)
    assert summary.span_count == 8
    assert summary.input_tokens == 300
