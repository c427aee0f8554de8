"""Label values are bounded per attribute; the overflow is visible, not silent."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider

from obs_core import _selfmetrics
from obs_core.metrics import OVERFLOW_VALUE, CardinalityGuard, MetricsSpanProcessor


def test_values_beyond_the_cap_become_other_and_count_as_drops() -> None:
    guard = CardinalityGuard(max_values=2)
    assert [guard.admit("model", m) for m in ("a", "b", "c", "a", "d")] == [
        "a", "b", OVERFLOW_VALUE, "a", OVERFLOW_VALUE]
    assert _selfmetrics.snapshot()["dropped"] == {"metric_attribute_overflow": 2}


def test_each_attribute_key_has_its_own_budget() -> None:
    guard = CardinalityGuard(max_values=1)
    assert guard.admit("model", "a") == "a"
    assert guard.admit("cohort", "x") == "x"
    assert guard.admit("model", "b") == OVERFLOW_VALUE


def test_processor_bounds_pipeline_versions_on_exported_series(metric_reader: Any,
                                                               collect: Any) -> None:
    provider = MeterProvider(metric_readers=[metric_reader])
    processor = MetricsSpanProcessor(provider, cardinality=CardinalityGuard(max_values=3))
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(processor)
    tracer = tracer_provider.get_tracer("t")
    for i in range(10):
        tracer.start_span("chat", attributes={
            "obs.span.kind": "llm", "obs.pipeline.version": f"v{i}"}).end()
    versions = {p.attributes["obs.pipeline.version"] for p in collect().points["obs.runs"]}
    assert versions == {"v0", "v1", "v2", OVERFLOW_VALUE}
    provider.shutdown()
