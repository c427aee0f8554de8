"""Fixtures of the metrics tests: a real SDK tracer provider feeding the metrics processor, an
in-memory metric reader, and a span maker with explicit clocks."""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Iterator, Mapping
from typing import Any, cast

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    HistogramDataPoint,
    InMemoryMetricReader,
    NumberDataPoint,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Status, StatusCode
from opentelemetry.util.types import AnyValue

from obs_core import _selfmetrics
from obs_core.alerts import AlertEngine, default_rules
from obs_core.drift import DriftConfig, DriftDetector
from obs_core.metrics import (
    EvaluationMetrics,
    MetricsSpanProcessor,
    ObsMeterProvider,
    build_meter_provider,
)

T0 = 1_700_000_000_000_000_000


class Collected:
    """One collection of the in-memory reader, searchable by metric name and attributes."""

    def __init__(self, reader: InMemoryMetricReader) -> None:
        self.points: dict[str, list[Any]] = {}
        data = reader.get_metrics_data()
        if data is None:
            return
        for rm in data.resource_metrics:
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    self.points.setdefault(metric.name, []).extend(metric.data.data_points)

    def matching(self, name: str, **attrs: str) -> list[Any]:
        wanted = {k.replace("__", "."): v for k, v in attrs.items()}
        return [p for p in self.points.get(name, [])
                if all(p.attributes.get(k) == v for k, v in wanted.items())]

    def histogram(self, name: str, **attrs: str) -> HistogramDataPoint:
        found = self.matching(name, **attrs)
        assert len(found) == 1, (name, attrs, self.points.get(name))
        point = found[0]
        assert isinstance(point, HistogramDataPoint)
        return point

    def number(self, name: str, **attrs: str) -> float:
        found = self.matching(name, **attrs)
        assert found, (name, attrs, self.points.get(name))
        assert all(isinstance(p, NumberDataPoint) for p in found)
        return float(sum(p.value for p in found))


class SpanMaker:
    def __init__(self, provider: TracerProvider) -> None:
        self._tracer = provider.get_tracer("tests")
        self._clock = T0

    def emit(self, name: str, attributes: Mapping[str, Any], *, duration_s: float = 0.1,
             error: bool = False) -> None:
        start = self._clock
        end = start + int(duration_s * 1e9)
        self._clock = end + 1_000
        span = self._tracer.start_span(name, attributes=dict(attributes), start_time=start)
        if error:
            span.set_status(Status(StatusCode.ERROR, "boom"))
        span.end(end_time=end)


@pytest.fixture
def metric_reader() -> InMemoryMetricReader:
    return InMemoryMetricReader()


@pytest.fixture
def meter_provider(metric_reader: InMemoryMetricReader) -> Iterator[MeterProvider]:
    provider = MeterProvider(metric_readers=[metric_reader])
    yield provider
    provider.shutdown()


@pytest.fixture
def processor(meter_provider: MeterProvider) -> MetricsSpanProcessor:
    return MetricsSpanProcessor(meter_provider)


@pytest.fixture
def span_maker(processor: MetricsSpanProcessor) -> Iterator[SpanMaker]:
    provider = TracerProvider()
    provider.add_span_processor(processor)
    yield SpanMaker(provider)
    provider.shutdown()


@pytest.fixture
def collect(metric_reader: InMemoryMetricReader) -> Any:
    return lambda: Collected(metric_reader)


SAMPLE_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})? ", re.MULTILINE)


def scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return str(response.read().decode())


def produce_every_metric(provider: ObsMeterProvider) -> None:
    """Spans of each kind, evaluations, a drift check, an alert engine and self-metrics."""
    processor = MetricsSpanProcessor(provider)
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(processor)
    tracer = tracer_provider.get_tracer("t")
    for attrs in (
        {"obs.span.kind": "llm", "gen_ai.operation.name": "chat", "gen_ai.request.model": "m",
         "gen_ai.usage.input_tokens": 5, "gen_ai.usage.output_tokens": 2,
         "gen_ai.response.time_to_first_chunk": 0.1, "obs.usage.cost_usd": 0.01,
         "error.type": "TimeoutError"},
        {"obs.span.kind": "agent", "gen_ai.agent.name": "a", "obs.agent.step_count": 4,
         "obs.agent.max_iterations_reached": True},
        {"obs.span.kind": "tool", "gen_ai.tool.name": "search"},
        {"obs.span.kind": "retriever", "gen_ai.data_source.id": "docs",
         "obs.retrieval.scores": [0.8, 0.7]},
    ):
        tracer.start_span("s", attributes=cast("dict[str, AnyValue]", attrs)).end()
    evaluations = EvaluationMetrics(provider)
    evaluations.record("faithfulness", 0.5, False, {"obs.pipeline.version": "v1"})
    detector = DriftDetector(DriftConfig(reference_size=2, current_size=2, min_reference=2,
                                         min_current=2), meter_provider=provider,
                             tracer_provider=tracer_provider)
    detector.observe_scores("docs", [0.9, 0.8, 0.3, 0.2])
    detector.check()
    AlertEngine(default_rules()).register_metrics(provider)
    _selfmetrics.count_internal_error("test")
    _selfmetrics.count_drop("test")
    _selfmetrics.count_orphan()
    _selfmetrics.register_gauge("test.depth", lambda: 3)


@pytest.fixture
def provider() -> Iterator[ObsMeterProvider]:
    """A meter provider serving Prometheus text on a free loopback port."""
    mp = build_meter_provider(resource=Resource.create({"service.name": "t"}), prometheus_port=0)
    yield mp
    mp.shutdown()


@pytest.fixture
def exposed_names(provider: ObsMeterProvider) -> set[str]:
    """Every sample name the exporter renders once each kind of metric has data."""
    produce_every_metric(provider)
    assert provider.prometheus is not None
    return set(SAMPLE_RE.findall(scrape(provider.prometheus.url)))
