"""The evaluation pipeline end to end: recorder → observer → workers → span, store, metric."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from core.evals.pipeline.pipeline_helpers import Scripted
from obs_core import Recorder, RecorderSettings
from obs_core import semconv as sc
from obs_core._selfmetrics import snapshot
from obs_core.evals.pipeline import EvaluationPipeline, EvaluationSettings, build_pipeline
from obs_core.runs import RunEnd, RunStart
from obs_core.spans import RetrievedDocument, SpanKind
from obs_core.store import SQLiteTraceStore, TraceStoreExporter
from obs_core.store._evaluations import EvaluationFilter, SQLiteEvaluationStore
from obs_core.testing import SpanCapture, capture_spans


@pytest.fixture
def capture() -> Iterator[SpanCapture]:
    with capture_spans() as cap:
        yield cap


@pytest.fixture
def db(tmp_path: Path, capture: SpanCapture) -> Path:
    path = tmp_path / "traces.db"
    capture.tracer_provider.add_span_processor(
        SimpleSpanProcessor(TraceStoreExporter(SQLiteTraceStore(path))))
    return path


def _pipeline(capture: SpanCapture, db: Path | None, *evaluators: Scripted,
              **options: object) -> EvaluationPipeline:
    settings = EvaluationSettings(evaluators=evaluators, **options)  # type: ignore[arg-type]
    return build_pipeline(settings, tracer_provider=capture.tracer_provider,
                          meter_provider=capture.meter_provider, trace_store_path=db)


def _rag_run(recorder: Recorder, *, fail: bool = False, answer: str = "Paris.") -> uuid.UUID:
    root, retriever, llm = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    recorder.start(root, None, RunStart(kind=SpanKind.CHAIN, name="qa",
                                        inputs={"question": "What is the capital of France?"}))
    recorder.start(retriever, root, RunStart(kind=SpanKind.RETRIEVER, name="docs"))
    recorder.end(retriever, RunEnd(documents=[RetrievedDocument(content="Paris is the capital.")]))
    recorder.start(llm, root, RunStart(kind=SpanKind.LLM, name="gpt-4o-mini", model="gpt-4o-mini"))
    recorder.end(llm, RunEnd(outputs=[{"role": "assistant", "content": "Paris."}]))
    if fail:
        recorder.error(root, ValueError("boom"))
    else:
        recorder.end(root, RunEnd(outputs={"answer": answer}))
    return root


def test_a_finished_trace_is_evaluated_into_store_span_event_and_metric(
        capture: SpanCapture, db: Path) -> None:
    evaluator = Scripted(name="quality", score=0.8)
    pipeline = _pipeline(capture, db, evaluator)
    recorder = Recorder(tracer_provider=capture.tracer_provider,
                        settings=RecorderSettings(observers=[pipeline]))

    _rag_run(recorder)
    assert pipeline.flush(10.0)

    evaluated = capture.one("qa")
    trace_id = f"{evaluated.context.trace_id:032x}"
    with SQLiteEvaluationStore(db) as store:
        [row] = store.for_trace(trace_id)
    assert (row.evaluator, row.score, row.passed) == ("quality", 0.8, True)
    assert row.span_id == f"{evaluated.context.span_id:016x}"
    assert evaluator.samples[0].contexts == ["Paris is the capital."]
    assert evaluator.samples[0].output == "Paris."
    span = capture.one("evaluate quality")
    assert span.links[0].context.span_id == evaluated.context.span_id
    assert span.links[0].context.trace_id == evaluated.context.trace_id
    assert span.parent is None
    assert (span.attributes or {})[sc.OBS_SPAN_KIND] == "evaluation"
    [event] = span.events
    assert event.name == sc.GEN_AI_EVALUATION_RESULT_EVENT
    assert event.attributes is not None
    assert event.attributes[sc.GEN_AI_EVALUATION_SCORE_LABEL] == "pass"
    [point] = capture.metric_points("obs.evaluation.score")
    assert point.attributes is not None
    assert point.attributes[sc.GEN_AI_EVALUATION_NAME] == "quality"
    pipeline.close()
    recorder.close()


def test_judge_work_does_not_extend_the_evaluated_trace(capture: SpanCapture, db: Path) -> None:
    pipeline = _pipeline(capture, db, Scripted(name="quality"))
    recorder = Recorder(tracer_provider=capture.tracer_provider,
                        settings=RecorderSettings(observers=[pipeline]))

    _rag_run(recorder)
    pipeline.flush(10.0)

    evaluated = capture.one("qa")
    evaluation = capture.one("evaluate quality")
    assert evaluation.context.trace_id != evaluated.context.trace_id
    pipeline.close()
    recorder.close()


def test_errored_traces_are_evaluated_even_at_sample_rate_zero(capture: SpanCapture) -> None:
    evaluator = Scripted(name="quality")
    pipeline = _pipeline(capture, None, evaluator, sample_rate=0.0)
    recorder = Recorder(tracer_provider=capture.tracer_provider,
                        settings=RecorderSettings(observers=[pipeline]))

    _rag_run(recorder)
    _rag_run(recorder, fail=True)
    pipeline.flush(10.0)

    assert evaluator.calls == 1
    pipeline.close()
    recorder.close()


def test_a_full_queue_drops_and_counts(capture: SpanCapture) -> None:
    evaluator = Scripted(name="slow", delay_s=0.5)
    pipeline = _pipeline(capture, None, evaluator, queue_size=1, workers=1)
    recorder = Recorder(tracer_provider=capture.tracer_provider,
                        settings=RecorderSettings(observers=[pipeline]))

    for _ in range(6):
        _rag_run(recorder)
    pipeline.flush(10.0)

    dropped = snapshot()["dropped"].get("evaluation_queue_full", 0)
    assert dropped >= 1
    assert len(capture.by_name("evaluate slow")) + dropped == 6
    pipeline.close()
    recorder.close()


def test_a_slow_evaluator_does_not_slow_the_application(capture: SpanCapture) -> None:
    evaluator = Scripted(name="slow", delay_s=0.5)
    pipeline = _pipeline(capture, None, evaluator, queue_size=200)
    recorder = Recorder(tracer_provider=capture.tracer_provider,
                        settings=RecorderSettings(observers=[pipeline]))

    started = time.perf_counter()
    for i in range(100):
        _rag_run(recorder, answer=f"Paris, take {i}.")
    elapsed = time.perf_counter() - started

    assert elapsed < 10.0  # the 100 evaluations need 50 s; the runs far less
    assert evaluator.calls < 100
    pipeline.close(timeout=0.1)
    assert snapshot()["dropped"]["evaluation_shutdown"] >= 1
    recorder.close()


def test_the_inbox_is_bounded_and_drops_are_counted(capture: SpanCapture) -> None:
    from core.evals.pipeline.pipeline_helpers import finished

    pipeline = _pipeline(capture, None, Scripted(), inbox_size=2)
    pipeline._stop.set()  # freeze the dispatcher so nothing drains
    pipeline._dispatcher.join(1.0)

    for _ in range(5):
        pipeline.on_run_end(finished(kind=SpanKind.LLM))

    assert snapshot()["dropped"]["evaluation_inbox_full"] == 3
    pipeline.close(timeout=0.1)


def test_evaluations_can_be_listed_failed_only(capture: SpanCapture, db: Path) -> None:
    pipeline = _pipeline(capture, db, Scripted(name="good", score=0.9),
                         Scripted(name="bad", score=0.1))
    recorder = Recorder(tracer_provider=capture.tracer_provider,
                        settings=RecorderSettings(observers=[pipeline]))

    _rag_run(recorder)
    pipeline.flush(10.0)

    with SQLiteEvaluationStore(db) as store:
        failed = store.query(EvaluationFilter(failed_only=True))
    assert [r.evaluator for r in failed] == ["bad"]
    pipeline.close()
    recorder.close()
