"""Drift detection over retrieval scores and embeddings: catches a stale index, ignores noise."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, NumberDataPoint
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from obs_core.drift import DriftConfig, DriftDetector, DriftResult
from obs_core.metrics import MetricsSpanProcessor

CONFIG = DriftConfig(reference_size=200, current_size=200, min_reference=100, min_current=100)


def scores(seed: int, mean: float, n: int = 200, sd: float = 0.05) -> list[float]:
    rng = random.Random(seed)
    return [rng.gauss(mean, sd) for _ in range(n)]


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def tracer_provider(exporter: InMemorySpanExporter) -> Iterator[TracerProvider]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider
    provider.shutdown()


@pytest.fixture
def detector(tracer_provider: TracerProvider) -> DriftDetector:
    return DriftDetector(CONFIG, tracer_provider=tracer_provider, clock=lambda: 100.0)


def test_a_stale_index_whose_scores_fall_is_detected(detector: DriftDetector) -> None:
    detector.observe_scores("docs", scores(1, 0.82))
    detector.observe_scores("docs", scores(2, 0.74))
    (result,) = detector.check()
    assert result.detected
    assert result.mean_shift == pytest.approx(-0.08, abs=0.02)
    assert result.p_value < 1e-6
    assert result.psi > 0.5


@pytest.mark.parametrize("seed", range(10))
def test_same_distribution_noise_does_not_fire(detector: DriftDetector, seed: int) -> None:
    detector.observe_scores("docs", scores(100 + seed, 0.82))
    detector.observe_scores("docs", scores(200 + seed, 0.82))
    (result,) = detector.check()
    assert not result.detected, result.summary


def test_nothing_is_tested_before_both_windows_reach_their_minimum(
        detector: DriftDetector) -> None:
    detector.observe_scores("docs", scores(1, 0.8))
    detector.observe_scores("docs", scores(2, 0.2, n=99))
    assert detector.check() == []


def test_retrievers_are_compared_separately(detector: DriftDetector) -> None:
    for source, shift in (("docs", 0.0), ("faq", 0.3)):
        detector.observe_scores(source, scores(1, 0.8))
        detector.observe_scores(source, scores(2, 0.8 - shift))
    verdicts = {r.source: r.detected for r in detector.check()}
    assert verdicts == {"docs": False, "faq": True}


def test_an_explicit_reference_replaces_the_first_samples(detector: DriftDetector) -> None:
    detector.set_reference("docs", scores(1, 0.9))
    detector.observe_scores("docs", scores(2, 0.9))
    (result,) = detector.check()
    assert not result.detected
    assert result.current_size == 200


def test_retriever_spans_feed_the_detector_through_the_metrics_processor(
        detector: DriftDetector) -> None:
    processor = MetricsSpanProcessor(MeterProvider())
    processor.add_listener(detector)
    provider = TracerProvider()
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("t")
    for batch, mean in ((1, 0.85), (2, 0.6)):
        values = scores(batch, mean)
        for i in range(0, 200, 4):
            tracer.start_span("retrieval", attributes={
                "obs.span.kind": "retriever", "gen_ai.data_source.id": "kb",
                "obs.retrieval.scores": values[i:i + 4]}).end()
    (result,) = detector.check()
    assert (result.source, result.detected) == ("kb", True)
    assert result.span_id != 0


def test_drift_start_emits_a_span_linked_to_the_latest_retrieval(
        detector: DriftDetector, exporter: InMemorySpanExporter) -> None:
    detector.observe_scores("docs", scores(1, 0.8))
    detector.observe_scores("docs", scores(2, 0.5), trace_id=0xABC, span_id=0xDEF)
    detector.check()
    detector.check()  # still drifting: no second span
    (span,) = exporter.get_finished_spans()
    assert span.name == "obs.drift.check"
    assert span.attributes is not None
    assert span.attributes["obs.drift.detected"] is True
    assert span.attributes["gen_ai.data_source.id"] == "docs"
    assert [(link.context.trace_id, link.context.span_id) for link in span.links] == [
        (0xABC, 0xDEF)]
    assert span.parent is None


def test_a_quiet_stream_emits_no_span(detector: DriftDetector,
                                      exporter: InMemorySpanExporter) -> None:
    detector.observe_scores("docs", scores(1, 0.8))
    detector.observe_scores("docs", scores(2, 0.8))
    detector.check()
    assert exporter.get_finished_spans() == ()


def test_results_are_exported_as_gauges() -> None:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    detector = DriftDetector(CONFIG, meter_provider=provider)
    detector.observe_scores("docs", scores(1, 0.8))
    detector.observe_scores("docs", scores(2, 0.6))
    detector.check()
    data = reader.get_metrics_data()
    assert data is not None
    values = {m.name: m.data.data_points[0] for rm in data.resource_metrics
              for sm in rm.scope_metrics for m in sm.metrics}
    assert all(isinstance(p, NumberDataPoint) for p in values.values())
    detected, index = values["obs.drift.detected"], values["obs.drift.psi"]
    assert isinstance(detected, NumberDataPoint)
    assert isinstance(index, NumberDataPoint)
    assert detected.value == 1
    assert index.value > 0.2
    assert dict(values["obs.drift.ks_statistic"].attributes or {}) == {
        "gen_ai.data_source.id": "docs", "obs.drift.signal": "retrieval_score"}
    provider.shutdown()


def test_listeners_receive_every_result(detector: DriftDetector) -> None:
    seen: list[DriftResult] = []

    class Listener:
        def on_drift(self, result: DriftResult) -> None:
            seen.append(result)

    detector.add_listener(Listener())
    detector.observe_scores("docs", scores(1, 0.8))
    detector.observe_scores("docs", scores(2, 0.8))
    detector.check()
    detector.check()
    assert len(seen) == 2


def unit(vec: list[float]) -> list[float]:
    norm = sum(x * x for x in vec) ** 0.5
    return [x / norm for x in vec]


def embeddings(seed: int, center: list[float], n: int = 200, noise: float = 0.3) -> list[list[float]]:
    rng = random.Random(seed)
    return [unit([c + rng.gauss(0, noise) for c in center]) for _ in range(n)]


def test_query_embeddings_moving_to_a_new_topic_are_detected(detector: DriftDetector) -> None:
    for vec in embeddings(1, [1.0, 0.0, 0.0, 0.0]):
        detector.observe_embedding(vec, signal="query_embedding")
    for vec in embeddings(2, [0.6, 0.8, 0.0, 0.0]):
        detector.observe_embedding(vec, signal="query_embedding")
    (result,) = detector.check()
    assert (result.signal, result.detected) == ("query_embedding", True)
    assert result.centroid_distance is not None
    assert result.centroid_distance > 0.2


def test_query_embeddings_from_the_same_topic_do_not_drift(detector: DriftDetector) -> None:
    for vec in embeddings(1, [1.0, 0.0, 0.0, 0.0]):
        detector.observe_embedding(vec, signal="query_embedding")
    for vec in embeddings(2, [1.0, 0.0, 0.0, 0.0]):
        detector.observe_embedding(vec, signal="query_embedding")
    (result,) = detector.check()
    assert not result.detected, result.summary


def test_embeddings_of_another_dimension_are_dropped_and_counted(
        detector: DriftDetector) -> None:
    from obs_core import _selfmetrics

    detector.observe_embedding([1.0, 0.0], signal="answer_embedding")
    detector.observe_embedding([1.0, 0.0, 0.0], signal="answer_embedding")
    assert _selfmetrics.snapshot()["dropped"] == {"drift_embedding_dimension_mismatch": 1}


def test_config_rejects_minimums_larger_than_windows() -> None:
    with pytest.raises(ValueError, match="minimum"):
        DriftConfig(reference_size=10, min_reference=20)
