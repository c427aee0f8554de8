"""Evaluation results as metrics, and their hand-off to listeners."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider

from obs_core.metrics import EvaluationFacts, EvaluationMetrics

SPAN = {
    "obs.pipeline.version": "v2",
    "gen_ai.request.model": "gpt-4o",
    "obs.evaluation.trace_id": "0af7651916cd43dd8448eb211c80319c",
    "obs.evaluation.span_id": "b7ad6b7169203331",
}


def test_scores_form_a_histogram_per_evaluator_and_version(meter_provider: MeterProvider,
                                                           collect: Any) -> None:
    metrics = EvaluationMetrics(meter_provider)
    metrics.record("relevance", 0.9, True, SPAN)
    metrics.record("relevance", 0.5, False, SPAN)
    point = collect().histogram("obs.evaluation.score", gen_ai__evaluation__name="relevance",
                                obs__pipeline__version="v2")
    assert (point.count, point.sum) == (2, pytest.approx(1.4))


def test_pass_and_fail_are_counted_separately(meter_provider: MeterProvider,
                                              collect: Any) -> None:
    metrics = EvaluationMetrics(meter_provider)
    for passed in (True, True, False):
        metrics.record("relevance", None, passed, SPAN)
    data = collect()
    assert data.number("obs.evaluation.results", obs__evaluation__passed="true") == 2
    assert data.number("obs.evaluation.results", obs__evaluation__passed="false") == 1


def test_a_failed_faithfulness_result_counts_as_a_hallucination_flag(
        meter_provider: MeterProvider, collect: Any) -> None:
    metrics = EvaluationMetrics(meter_provider)
    metrics.record("faithfulness", 0.2, False, SPAN)
    metrics.record("faithfulness", 0.95, True, SPAN)
    metrics.record("relevance", 0.1, False, SPAN)
    data = collect()
    assert data.number("obs.evaluation.hallucination_checks",
                       obs__evaluation__hallucination="true") == 1
    assert data.number("obs.evaluation.hallucination_checks",
                       obs__evaluation__hallucination="false") == 1


def test_an_explicit_hallucination_flag_wins_over_the_evaluator_name(
        meter_provider: MeterProvider, collect: Any) -> None:
    metrics = EvaluationMetrics(meter_provider)
    metrics.record("judge", 0.3, True, SPAN, hallucination=True)
    assert collect().number("obs.evaluation.hallucination_checks",
                            gen_ai__evaluation__name="judge",
                            obs__evaluation__hallucination="true") == 1


def test_listeners_get_the_result_with_the_evaluated_span_identity(
        meter_provider: MeterProvider) -> None:
    seen: list[EvaluationFacts] = []

    class Listener:
        def on_evaluation(self, facts: EvaluationFacts) -> None:
            seen.append(facts)

    metrics = EvaluationMetrics(meter_provider, listeners=[Listener()], clock=lambda: 42.0)
    metrics.record("faithfulness", 0.4, False, SPAN)
    (facts,) = seen
    assert (facts.name, facts.score, facts.hallucination) == ("faithfulness", 0.4, True)
    assert (facts.pipeline_version, facts.model, facts.time_s) == ("v2", "gpt-4o", 42.0)
    assert facts.trace_id == 0x0AF7651916CD43DD8448EB211C80319C
    assert facts.span_id == 0xB7AD6B7169203331
