"""The recorder turns run events into correctly named, parented GenAI spans."""

from __future__ import annotations

import asyncio
import threading
import uuid

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind as OtelKind
from opentelemetry.trace import StatusCode

from _obs_support import Spans, attrs
from obs_core import Recorder, RetrievedDocument, RunEnd, RunStart, SpanKind, TokenUsage
from obs_core import semconv as sc


def _id() -> uuid.UUID:
    return uuid.uuid4()


def test_llm_span_is_named_after_operation_and_model(recorder: Recorder, spans: Spans) -> None:
    run = _id()
    recorder.start(run, None, RunStart(kind=SpanKind.LLM, name="m", model="gpt-4o-mini", provider="openai"))
    recorder.end(run)
    span = spans.named("chat gpt-4o-mini")
    assert span.kind is OtelKind.CLIENT
    assert attrs(span)[sc.GEN_AI_OPERATION_NAME] == "chat"
    assert attrs(span)[sc.GEN_AI_PROVIDER_NAME] == "openai"
    assert attrs(span)[sc.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"


@pytest.mark.parametrize(
    ("start", "expected_name", "operation"),
    [
        (RunStart(kind=SpanKind.TOOL, name="search"), "execute_tool search", "execute_tool"),
        (RunStart(kind=SpanKind.AGENT, name="planner"), "invoke_agent planner", "invoke_agent"),
        (RunStart(kind=SpanKind.RETRIEVER, name="r", data_source="docs"), "retrieval docs", "retrieval"),
        (RunStart(kind=SpanKind.EMBEDDING, name="e", model="text-embedding-3-small"),
         "embeddings text-embedding-3-small", "embeddings"),
        (RunStart(kind=SpanKind.CHAIN, name="wf", operation="invoke_workflow"), "invoke_workflow wf",
         "invoke_workflow"),
    ],
)
def test_span_names_follow_genai_conventions(recorder: Recorder, spans: Spans, start: RunStart,
                                             expected_name: str, operation: str) -> None:
    run = _id()
    recorder.start(run, None, start)
    recorder.end(run)
    assert spans.attrs(expected_name)[sc.GEN_AI_OPERATION_NAME] == operation


def test_chain_span_keeps_the_runnable_name_without_operation(recorder: Recorder, spans: Spans) -> None:
    run = _id()
    recorder.start(run, None, RunStart(kind=SpanKind.CHAIN, name="RunnableSequence"))
    recorder.end(run)
    span = spans.named("RunnableSequence")
    assert sc.GEN_AI_OPERATION_NAME not in attrs(span)
    assert attrs(span)[sc.OBS_SPAN_KIND] == "chain"


def test_usage_and_response_land_on_semconv_keys(recorder: Recorder, spans: Spans) -> None:
    run = _id()
    recorder.start(run, None, RunStart(kind=SpanKind.LLM, name="m", model="gpt-4o",
                                       request_params={"temperature": 0.1, "max_tokens": 64}))
    recorder.end(run, RunEnd(
        usage=TokenUsage(input_tokens=120, output_tokens=30, cache_read_tokens=100,
                         cache_write_tokens=5, reasoning_tokens=7),
        response_id="chatcmpl-1", response_model="gpt-4o-2024-08-06", finish_reasons=["stop"]))
    attrs = spans.attrs("chat gpt-4o")
    assert attrs[sc.GEN_AI_REQUEST_TEMPERATURE] == 0.1
    assert attrs[sc.GEN_AI_REQUEST_MAX_TOKENS] == 64
    assert attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] == 120
    assert attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == 30
    assert attrs[sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 100
    assert attrs[sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] == 5
    assert attrs[sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] == 7
    assert attrs[sc.GEN_AI_RESPONSE_ID] == "chatcmpl-1"
    assert attrs[sc.GEN_AI_RESPONSE_MODEL] == "gpt-4o-2024-08-06"
    assert attrs[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)


def test_retrieval_records_document_count_ids_and_scores(recorder: Recorder, spans: Spans) -> None:
    run = _id()
    recorder.start(run, None, RunStart(kind=SpanKind.RETRIEVER, name="docs"))
    recorder.end(run, RunEnd(documents=[RetrievedDocument(id="a", score=0.9),
                                        RetrievedDocument(id="b", score=0.4)]))
    attrs = spans.attrs("retrieval docs")
    assert attrs[sc.OBS_RETRIEVAL_DOCUMENT_COUNT] == 2
    assert attrs[sc.OBS_RETRIEVAL_DOCUMENT_IDS] == ("a", "b")
    assert attrs[sc.OBS_RETRIEVAL_SCORES] == (0.9, 0.4)


def test_children_are_parented_by_run_id(recorder: Recorder, spans: Spans) -> None:
    root, child, grandchild = _id(), _id(), _id()
    recorder.start(root, None, RunStart(kind=SpanKind.CHAIN, name="root"))
    recorder.start(child, root, RunStart(kind=SpanKind.CHAIN, name="child"))
    recorder.start(grandchild, child, RunStart(kind=SpanKind.TOOL, name="t"))
    for run in (grandchild, child, root):
        recorder.end(run)
    assert spans.parent_of(spans.named("execute_tool t")) is spans.named("child")
    assert spans.parent_of(spans.named("child")) is spans.named("root")
    assert spans.attrs("root")[sc.OBS_ROOT] is True
    assert sc.OBS_ROOT not in spans.attrs("child")


def test_hidden_runs_pass_their_children_to_the_nearest_visible_ancestor(recorder: Recorder, spans: Spans) -> None:
    root, plumbing, node = _id(), _id(), _id()
    recorder.start(root, None, RunStart(kind=SpanKind.CHAIN, name="graph"))
    recorder.start(plumbing, root, RunStart(kind=SpanKind.CHAIN, name="ChannelWrite", hidden=True))
    recorder.start(node, plumbing, RunStart(kind=SpanKind.CHAIN, name="node"))
    for run in (node, plumbing, root):
        recorder.end(run)
    assert [s.name for s in spans.all] == ["node", "graph"]
    assert spans.parent_of(spans.named("node")) is spans.named("graph")


def test_hidden_root_makes_its_first_visible_child_the_root(recorder: Recorder, spans: Spans) -> None:
    plumbing, node = _id(), _id()
    recorder.start(plumbing, None, RunStart(kind=SpanKind.CHAIN, name="hidden", hidden=True))
    recorder.start(node, plumbing, RunStart(kind=SpanKind.CHAIN, name="node"))
    recorder.end(node)
    recorder.end(plumbing)
    assert spans.attrs("node")[sc.OBS_ROOT] is True


def test_root_run_becomes_child_of_the_ambient_user_span(recorder: Recorder, spans: Spans) -> None:
    tracer = spans.provider.get_tracer("app")
    with tracer.start_as_current_span("GET /ask"):
        run = _id()
        recorder.start(run, None, RunStart(kind=SpanKind.CHAIN, name="chain"))
        recorder.end(run)
    chain = spans.named("chain")
    assert spans.parent_of(chain) is spans.named("GET /ask")
    assert chain.context.trace_id == spans.named("GET /ask").context.trace_id


def test_activate_makes_user_spans_nest_under_the_run(recorder: Recorder, spans: Spans) -> None:
    tracer = spans.provider.get_tracer("tool-code")
    run = _id()
    recorder.start(run, None, RunStart(kind=SpanKind.TOOL, name="fetch"))
    recorder.activate(run)
    with tracer.start_as_current_span("http GET"):
        pass
    recorder.end(run)
    assert spans.parent_of(spans.named("http GET")) is spans.named("execute_tool fetch")
    with tracer.start_as_current_span("after"):
        pass
    assert spans.named("after").parent is None


def test_error_sets_status_error_type_and_exception_event(recorder: Recorder, spans: Spans) -> None:
    run = _id()
    recorder.start(run, None, RunStart(kind=SpanKind.TOOL, name="t"))
    recorder.error(run, KeyError("missing"))
    span = spans.named("execute_tool t")
    assert span.status.status_code is StatusCode.ERROR
    assert attrs(span)[sc.ERROR_TYPE] == "KeyError"
    assert [e.name for e in span.events] == ["exception"]


def test_control_flow_exception_is_not_an_error(recorder: Recorder, spans: Spans) -> None:
    class Interrupt(Exception):
        pass

    run = _id()
    recorder.start(run, None, RunStart(kind=SpanKind.CHAIN, name="graph"))
    recorder.error(run, Interrupt(), control_flow=True)
    span = spans.named("graph")
    assert span.status.status_code is not StatusCode.ERROR
    assert sc.ERROR_TYPE not in attrs(span)


def test_identity_is_inherited_by_children(recorder: Recorder, spans: Spans) -> None:
    root, child = _id(), _id()
    recorder.start(root, None, RunStart(kind=SpanKind.CHAIN, name="root", conversation_id="thread-7",
                                        user_id="u1", pipeline_version="v2"))
    recorder.start(child, root, RunStart(kind=SpanKind.LLM, name="m", model="gpt-4o"))
    recorder.end(child)
    recorder.end(root)
    attrs = spans.attrs("chat gpt-4o")
    assert attrs[sc.GEN_AI_CONVERSATION_ID] == "thread-7"
    assert attrs[sc.USER_ID] == "u1"
    assert attrs[sc.OBS_PIPELINE_VERSION] == "v2"


def test_parents_stay_correct_under_eight_threads(recorder: Recorder, spans: Spans) -> None:
    barrier = threading.Barrier(8)

    def work(i: int) -> None:
        barrier.wait()
        for j in range(25):
            root, child = _id(), _id()
            recorder.start(root, None, RunStart(kind=SpanKind.CHAIN, name=f"root-{i}-{j}"))
            recorder.start(child, root, RunStart(kind=SpanKind.TOOL, name=f"tool-{i}-{j}"))
            recorder.end(child)
            recorder.end(root)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    tools = [s for s in spans.all if s.name.startswith("execute_tool")]
    assert len(tools) == 200
    for tool in tools:
        parent = spans.parent_of(tool)
        assert parent is not None
        assert parent.name == "root-" + tool.name.removeprefix("execute_tool tool-")
    assert recorder.open_run_count == 0


async def test_parents_stay_correct_under_100_concurrent_tasks(recorder: Recorder, spans: Spans) -> None:
    async def work(i: int) -> None:
        root, child = _id(), _id()
        recorder.start(root, None, RunStart(kind=SpanKind.CHAIN, name=f"root-{i}"))
        await asyncio.sleep(0.001 * (i % 5))
        recorder.start(child, root, RunStart(kind=SpanKind.LLM, name="m", model=f"model-{i}"))
        await asyncio.sleep(0.001 * (i % 3))
        recorder.end(child)
        recorder.end(root)

    await asyncio.gather(*(work(i) for i in range(100)))
    llm_spans = [s for s in spans.all if s.name.startswith("chat ")]
    assert len(llm_spans) == 100
    for span in llm_spans:
        parent = spans.parent_of(span)
        assert parent is not None
        assert parent.name == "root-" + span.name.removeprefix("chat model-")
        assert parent.context.trace_id == span.context.trace_id
    assert len({s.context.trace_id for s in llm_spans}) == 100


def test_unsampled_runs_still_end_cleanly() -> None:
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

    rec = Recorder(tracer_provider=TracerProvider(sampler=ALWAYS_OFF))
    run = _id()
    rec.start(run, None, RunStart(kind=SpanKind.AGENT, name="a"))
    rec.end(run)
    assert rec.open_run_count == 0


def test_runs_under_suppressed_instrumentation_make_no_spans_and_end_silently(
        recorder: Recorder, spans: Spans) -> None:
    from opentelemetry import context as otel_context

    from obs_core import self_metrics

    token = otel_context.attach(otel_context.set_value("suppress_instrumentation", True))
    try:
        run = _id()
        recorder.start(run, None, RunStart(kind=SpanKind.LLM, name="judge", model="gpt-4o-mini"))
        recorder.end(run)
    finally:
        otel_context.detach(token)
    assert spans.all == ()
    assert self_metrics()["dropped"] == {}
