"""Turning a finished trace into the sample the evaluators judge."""

from __future__ import annotations

from core.evals.pipeline.pipeline_helpers import finished
from obs_core import semconv as sc
from obs_core.evals.pipeline import TraceCollector, build_job
from obs_core.spans import RetrievedDocument, SpanKind


def _rag_trace() -> list:  # type: ignore[type-arg]
    docs = [RetrievedDocument(content="Paris is the capital of France."),
            RetrievedDocument(content="France is in Europe.")]
    return [
        finished(kind=SpanKind.RETRIEVER, inputs="capital of France?", documents=docs),
        finished(kind=SpanKind.LLM, model="gpt-4o-mini",
                 inputs=[{"role": "system", "content": "Be brief."},
                         {"role": "user", "content": "capital of France?"}],
                 outputs=[{"role": "assistant", "content": "Paris."}]),
        finished(is_root=True, inputs={"question": "What is the capital of France?"},
                 outputs={"answer": "Paris."}, span_id="00000000000000aa"),
    ]


def test_question_and_answer_come_from_the_root_run() -> None:
    job = build_job(_rag_trace())

    assert job.sample.input == "What is the capital of France?"
    assert job.sample.output == "Paris."


def test_contexts_are_the_documents_retrievers_returned() -> None:
    job = build_job(_rag_trace())

    assert job.sample.contexts == ["Paris is the capital of France.", "France is in Europe."]


def test_without_root_payloads_the_last_user_message_and_final_model_output_are_used() -> None:
    runs = [
        finished(kind=SpanKind.LLM, inputs=[{"role": "user", "content": "first"}],
                 outputs=[{"role": "assistant", "content": "draft"}]),
        finished(kind=SpanKind.LLM, inputs=[{"role": "user", "content": "Hi?"},
                                             {"role": "assistant", "content": "draft"},
                                             {"role": "user", "content": "Really?"}],
                 outputs=[{"role": "assistant", "content": "Yes, really."}]),
        finished(is_root=True),
    ]

    job = build_job(runs)

    assert job.sample.input == "first"
    assert job.sample.output == "Yes, really."


def test_logprobs_of_the_final_output_are_carried() -> None:
    runs = [
        finished(kind=SpanKind.LLM, outputs=[{"role": "assistant", "content": "Paris",
                                              "logprobs": [{"token": "Paris", "logprob": -0.1}]}]),
        finished(is_root=True, inputs="q", outputs="Paris"),
    ]

    job = build_job(runs)

    assert job.sample.logprobs is not None
    assert job.sample.logprobs[0].logprob == -0.1


def test_the_job_points_at_the_root_span_and_carries_metric_attributes() -> None:
    job = build_job(_rag_trace())

    assert job.span_id == "00000000000000aa"
    assert job.attributes[sc.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"
    assert job.attributes[sc.OBS_EVALUATED_SPAN_ID] == "00000000000000aa"


def test_errors_and_limit_hits_anywhere_in_the_trace_are_noticed() -> None:
    runs = [finished(kind=SpanKind.TOOL, error="ValueError"),
            finished(kind=SpanKind.AGENT, limit_hit=True), finished(is_root=True)]

    job = build_job(runs)

    assert (job.errored, job.limit_hit) == (True, True)


def test_the_collector_returns_the_trace_when_its_root_ends() -> None:
    collector = TraceCollector()
    *children, root = _rag_trace()

    assert [collector.add(run) for run in children] == [None, None]
    runs = collector.add(root)

    assert runs is not None
    assert [r.kind for r in runs] == [SpanKind.RETRIEVER, SpanKind.LLM, SpanKind.CHAIN]
    assert collector.open_traces == 0


def test_open_traces_are_bounded_and_evictions_counted() -> None:
    from obs_core._selfmetrics import snapshot

    collector = TraceCollector(max_open_traces=2)
    for i in range(3):
        collector.add(finished(trace_id=f"{i:032x}", kind=SpanKind.LLM))

    assert collector.open_traces == 2
    assert snapshot()["dropped"]["evaluation_trace_evicted"] == 1


def test_runs_per_trace_are_bounded_and_drops_counted() -> None:
    from obs_core._selfmetrics import snapshot

    collector = TraceCollector(max_runs_per_trace=2)
    for _ in range(5):
        collector.add(finished(kind=SpanKind.LLM))
    runs = collector.add(finished(is_root=True))

    assert runs is not None
    assert len(runs) == 3
    assert snapshot()["dropped"]["evaluation_trace_runs_full"] == 3
