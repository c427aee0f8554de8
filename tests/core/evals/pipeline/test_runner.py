"""Running one evaluation job: cache, timeout, retries and the circuit breaker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.evals.pipeline.pipeline_helpers import Scripted, finished
from obs_core._selfmetrics import snapshot
from obs_core.evals import EvalFailure, EvalResult
from obs_core.evals.pipeline import EvalJob, JobRunner, ResultSink, build_job
from obs_core.metrics import EvaluationMetrics
from obs_core.store._evaluations import SQLiteEvaluationStore
from obs_core.testing import SpanCapture, capture_spans


@pytest.fixture
def capture() -> Iterator[SpanCapture]:
    with capture_spans() as cap:
        yield cap


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteEvaluationStore]:
    with SQLiteEvaluationStore(tmp_path / "traces.db") as st:
        yield st


def _job(trace_id: str = "cd" * 16, answer: str = "Paris.") -> EvalJob:
    return build_job([finished(trace_id=trace_id, is_root=True, inputs="Capital of France?",
                               outputs=answer, span_id="00000000000000aa")])


def _runner(capture: SpanCapture, store: SQLiteEvaluationStore | None, *evaluators: Scripted,
            **options: object) -> JobRunner:
    sink = ResultSink(tracer_provider=capture.tracer_provider,
                      metrics=EvaluationMetrics(capture.meter_provider), store=store)
    options.setdefault("sleep", lambda _s: None)
    return JobRunner(evaluators=evaluators, sink=sink, **options)  # type: ignore[arg-type]


def test_a_result_is_published_as_event_row_and_metric(
        capture: SpanCapture, store: SQLiteEvaluationStore) -> None:
    runner = _runner(capture, store, Scripted(score=0.9))

    runner.run(_job(), "scripted")

    span = capture.one("evaluate scripted")
    assert span.events[0].attributes is not None
    assert span.events[0].attributes["gen_ai.evaluation.score.value"] == 0.9
    [row] = store.for_trace("cd" * 16)
    assert (row.score, row.passed, row.span_id) == (0.9, True, "00000000000000aa")
    [point] = capture.metric_points("obs.evaluation.results")
    assert point.attributes is not None
    assert point.attributes["obs.evaluation.passed"] == "true"


def test_a_cache_hit_avoids_a_second_judge_call(capture: SpanCapture) -> None:
    evaluator = Scripted(judge_model="openai:gpt-4o-mini")
    runner = _runner(capture, None, evaluator)

    runner.run(_job(trace_id="01" * 16), "scripted")
    second = runner.run(_job(trace_id="02" * 16), "scripted")

    assert evaluator.calls == 1
    assert isinstance(second, EvalResult)
    assert len(capture.by_name("evaluate scripted")) == 2


def test_different_content_is_not_served_from_the_cache(capture: SpanCapture) -> None:
    evaluator = Scripted()
    runner = _runner(capture, None, evaluator)

    runner.run(_job(answer="Paris."), "scripted")
    runner.run(_job(answer="Lyon."), "scripted")

    assert evaluator.calls == 2


def test_a_slow_evaluation_times_out_as_a_failure(capture: SpanCapture) -> None:
    runner = _runner(capture, None, Scripted(delay_s=1.0), timeout_s=0.05, max_retries=0)

    outcome = runner.run(_job(), "scripted")

    assert isinstance(outcome, EvalFailure)
    assert outcome.error_type == "TimeoutError"
    runner.close()


def test_failures_are_retried_with_exponential_backoff(capture: SpanCapture) -> None:
    slept: list[float] = []
    evaluator = Scripted(fail_times=2)
    runner = _runner(capture, None, evaluator, max_retries=2, backoff_s=0.1, sleep=slept.append)

    outcome = runner.run(_job(), "scripted")

    assert isinstance(outcome, EvalResult)
    assert evaluator.calls == 3
    assert slept == [0.1, 0.2]


def test_a_failure_after_all_retries_is_stored_as_an_error_row(
        capture: SpanCapture, store: SQLiteEvaluationStore) -> None:
    runner = _runner(capture, store, Scripted(fail_times=5), max_retries=1)

    outcome = runner.run(_job(), "scripted")

    assert isinstance(outcome, EvalFailure)
    [row] = store.for_trace("cd" * 16)
    assert (row.score, row.passed, row.label) == (None, None, "error")
    assert row.explanation.startswith("ConnectionError")


def test_an_open_circuit_skips_the_judge_and_counts_the_drop(capture: SpanCapture) -> None:
    evaluator = Scripted(fail_times=100)
    runner = _runner(capture, None, evaluator, max_retries=0, breaker_failures=2,
                     breaker_reset_s=3600)

    for i in range(5):
        runner.run(_job(trace_id=f"{i:032x}"), "scripted")

    assert evaluator.calls == 2
    assert snapshot()["dropped"]["evaluation_circuit_open"] == 3


def test_the_circuit_closes_again_after_a_successful_probe(capture: SpanCapture) -> None:
    evaluator = Scripted(fail_times=2)
    runner = _runner(capture, None, evaluator, max_retries=0, breaker_failures=2,
                     breaker_reset_s=0.0)

    outcomes = [runner.run(_job(trace_id=f"{i:032x}", answer=str(i)), "scripted")
                for i in range(4)]

    assert [type(o).__name__ for o in outcomes] == ["EvalFailure", "EvalFailure", "EvalResult",
                                                   "EvalResult"]
    assert runner.breakers["scripted"].state.value == "closed"


def test_a_sample_the_evaluator_cannot_judge_is_skipped_quietly(
        capture: SpanCapture, store: SQLiteEvaluationStore) -> None:
    from obs_core.evals import Groundedness

    sink = ResultSink(tracer_provider=capture.tracer_provider, store=store)
    runner = JobRunner(evaluators=[Groundedness()], sink=sink)

    assert runner.run(_job(), "groundedness") is None
    assert store.for_trace("cd" * 16) == []
    runner.close()
