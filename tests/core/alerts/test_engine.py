"""The in-process alert engine: rules over sliding windows, deduplicated, with resolutions."""

from __future__ import annotations

import random
import threading
from typing import Any

import pytest

from obs_core import _selfmetrics
from obs_core.alerts import (
    AgentLimitRateRule,
    AlertEngine,
    AlertEvent,
    DriftRule,
    ErrorRateRule,
    EvaluationRegressionRule,
    HallucinationRateRule,
    LatencyRule,
    SpendBudgetRule,
    default_rules,
)
from obs_core.drift import DriftConfig, DriftDetector
from obs_core.metrics import EvaluationFacts, SpanFacts


def llm(duration_s: float = 0.1, *, error: bool = False, cost: float = 0.0,
        tokens: int = 0) -> SpanFacts:
    return SpanFacts(kind="llm", name="chat", operation="chat", duration_s=duration_s,
                     error_type="TimeoutError" if error else None, cost_usd=cost,
                     input_tokens=tokens)


def evaluation(score: float, version: str, name: str = "relevance",
               hallucination: bool | None = None) -> EvaluationFacts:
    return EvaluationFacts(name=name, score=score, pipeline_version=version,
                           hallucination=hallucination)


def test_latency_alert_fires_once_while_p99_stays_high(clock: Any, sink: Any) -> None:
    engine = AlertEngine([LatencyRule(name="lat", min_samples=10)], sinks=[sink], clock=clock)
    for _ in range(3):
        for i in range(100):
            engine.on_span_facts(llm(3.0 if i % 10 == 0 else 0.2))
        engine.evaluate()
        clock.advance(15)
    assert sink.summary() == [("lat", "firing")]
    assert sink.events[0].value > 2.0
    assert [e.rule for e in engine.active()] == ["lat"]


def test_alert_resolves_once_the_window_holds_healthy_data(clock: Any, sink: Any) -> None:
    engine = AlertEngine([LatencyRule(name="lat", min_samples=10, window_s=60)], sinks=[sink],
                         clock=clock)
    for _ in range(20):
        engine.on_span_facts(llm(5.0))
    engine.evaluate()
    clock.advance(120)
    for _ in range(20):
        engine.on_span_facts(llm(0.1))
    engine.evaluate()
    engine.evaluate()
    assert sink.summary() == [("lat", "firing"), ("lat", "resolved")]
    resolved = sink.events[1]
    assert resolved.started_at == sink.events[0].at
    assert resolved.dedup_key == sink.events[0].dedup_key
    assert engine.active() == []


def test_too_few_samples_neither_fire_nor_resolve(clock: Any, sink: Any) -> None:
    engine = AlertEngine([LatencyRule(name="lat", min_samples=50)], sinks=[sink], clock=clock)
    for _ in range(49):
        engine.on_span_facts(llm(10.0))
    assert engine.evaluate() == []


def test_error_rate_alert_counts_errors_over_runs(clock: Any, sink: Any) -> None:
    engine = AlertEngine([ErrorRateRule(name="err", threshold=0.05)], sinks=[sink], clock=clock)
    for i in range(100):
        engine.on_span_facts(llm(error=i < 6))
    (event,) = engine.evaluate()
    assert event.rule == "err"
    assert event.value == pytest.approx(0.06)


def test_error_rate_at_the_threshold_does_not_fire(clock: Any, sink: Any) -> None:
    engine = AlertEngine([ErrorRateRule(name="err", threshold=0.05)], sinks=[sink], clock=clock)
    for i in range(100):
        engine.on_span_facts(llm(error=i < 5))
    assert engine.evaluate() == []


def test_hallucination_rate_above_three_percent_fires(clock: Any, sink: Any) -> None:
    engine = AlertEngine([HallucinationRateRule(name="hal")], sinks=[sink], clock=clock)
    for i in range(100):
        engine.on_evaluation(EvaluationFacts(name="faithfulness", hallucination=i < 4))
    (event,) = engine.evaluate()
    assert event.rule == "hal"
    assert event.value == pytest.approx(0.04)


def test_daily_spend_budget_fires_on_usd_and_on_tokens_separately(clock: Any, sink: Any) -> None:
    engine = AlertEngine([SpendBudgetRule(name="budget", budget_usd=10, budget_tokens=5000)],
                         sinks=[sink], clock=clock)
    for _ in range(12):
        engine.on_span_facts(llm(cost=1.0, tokens=100))
        clock.advance(3600)
    (event,) = engine.evaluate()
    assert event.labels == {"budget": "usd"}
    assert event.value == pytest.approx(12.0)


def test_spend_outside_the_day_window_no_longer_counts(clock: Any, sink: Any) -> None:
    engine = AlertEngine([SpendBudgetRule(name="budget", budget_usd=10)], sinks=[sink],
                         clock=clock)
    engine.on_span_facts(llm(cost=11.0))
    assert [e.status for e in engine.evaluate()] == ["firing"]
    clock.advance(86_400 + 60)
    assert [e.status for e in engine.evaluate()] == ["resolved"]


def test_agent_limit_hit_rate_fires(clock: Any, sink: Any) -> None:
    engine = AlertEngine([AgentLimitRateRule(name="limits", threshold=0.1)], sinks=[sink],
                         clock=clock)
    for i in range(20):
        engine.on_span_facts(SpanFacts(kind="agent", name="a", agent_limit_hit=i < 3))
    (event,) = engine.evaluate()
    assert event.value == pytest.approx(0.15)


def test_prompt_regression_fires_within_ten_minutes_for_the_new_version(clock: Any,
                                                                        sink: Any) -> None:
    rng = random.Random(7)
    engine = AlertEngine([EvaluationRegressionRule(name="regression")], sinks=[sink],
                         clock=clock, interval_s=60)
    for _ in range(200):  # a day of v1 at about 0.85
        engine.on_evaluation(evaluation(min(1.0, rng.gauss(0.85, 0.05)), "v1"))
        clock.advance(400)
    assert engine.evaluate() == []
    deployed_at = clock.now
    while not sink.events and clock.now - deployed_at <= 600:
        for _ in range(3):  # v2's prompt change costs 0.2 of relevance
            engine.on_evaluation(evaluation(rng.gauss(0.65, 0.05), "v2"))
        clock.advance(60)
        engine.evaluate()
    (event,) = sink.events
    assert clock.now - deployed_at <= 600
    assert event.labels == {"evaluator": "relevance", "pipeline_version": "v2"}
    assert event.status == "firing"
    assert "'v1'" in event.summary


def test_a_new_version_of_equal_quality_does_not_fire(clock: Any, sink: Any) -> None:
    rng = random.Random(11)
    engine = AlertEngine([EvaluationRegressionRule(name="regression")], sinks=[sink],
                         clock=clock)
    for _ in range(100):
        engine.on_evaluation(evaluation(rng.gauss(0.85, 0.05), "v1"))
        clock.advance(60)
    for _ in range(10):
        for _ in range(5):
            engine.on_evaluation(evaluation(rng.gauss(0.85, 0.05), "v2"))
        clock.advance(60)
        engine.evaluate()
    assert sink.events == []


def test_drift_results_from_a_watched_detector_raise_an_alert(clock: Any, sink: Any) -> None:
    detector = DriftDetector(DriftConfig(reference_size=50, current_size=50, min_reference=50,
                                         min_current=50), clock=clock)
    engine = AlertEngine([DriftRule(name="drift")], sinks=[sink], clock=clock)
    engine.watch_drift(detector)
    rng = random.Random(3)
    detector.observe_scores("docs", [rng.gauss(0.8, 0.05) for _ in range(50)])
    detector.observe_scores("docs", [rng.gauss(0.55, 0.05) for _ in range(50)])
    (event,) = engine.evaluate()
    assert event.labels == {"data_source": "docs", "signal": "retrieval_score"}


@pytest.mark.lenient
def test_a_failing_sink_is_counted_and_does_not_stop_the_others(clock: Any, sink: Any) -> None:
    class Down:
        def send(self, event: AlertEvent) -> None:
            raise OSError("connection refused")

    engine = AlertEngine([ErrorRateRule(name="err", min_samples=1)], sinks=[Down(), sink],
                         clock=clock)
    engine.on_span_facts(llm(error=True))
    engine.evaluate()
    assert sink.summary() == [("err", "firing")]
    assert engine.delivery == {"Down.failed": 1, "RecordingSink.sent": 1}
    assert _selfmetrics.snapshot()["dropped"] == {"alert_notification_failed": 1}


def test_background_loop_evaluates_off_the_calling_thread(sink: Any) -> None:
    delivered = threading.Event()
    threads: list[str] = []

    class Signal:
        def send(self, event: AlertEvent) -> None:
            threads.append(threading.current_thread().name)
            delivered.set()

    engine = AlertEngine([ErrorRateRule(name="err", min_samples=1)], sinks=[Signal()],
                         interval_s=0.01)
    engine.on_span_facts(llm(error=True))
    engine.start()
    try:
        assert delivered.wait(5)
    finally:
        engine.stop()
    assert threads == ["obs-alerts"]


def test_rule_names_must_be_unique() -> None:
    with pytest.raises(ValueError, match="unique"):
        AlertEngine([ErrorRateRule(name="x"), LatencyRule(name="x")])


def test_default_rules_hold_the_documented_thresholds() -> None:
    by_type = {r.type: r for r in default_rules()}
    latency, hallucination = by_type["latency"], by_type["hallucination_rate"]
    assert isinstance(latency, LatencyRule)
    assert (latency.quantile, latency.threshold_s) == (0.99, 2.0)
    assert isinstance(hallucination, HallucinationRateRule)
    assert hallucination.threshold == 0.03
    regression = by_type["evaluation_regression"]
    assert isinstance(regression, EvaluationRegressionRule)
    assert regression.window_s == 600
