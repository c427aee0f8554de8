"""Binds a recorder to the span-derived metrics, when the metrics subpackage is available."""

from __future__ import annotations

from collections.abc import Callable

from opentelemetry.metrics import MeterProvider
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import Span


def span_metrics_for(meter_provider: MeterProvider | None) -> Callable[[Span], None] | None:
    """A function recording GenAI and ``obs.*`` metrics from one ended span, or ``None``."""
    try:
        from obs_core.metrics import MetricsSpanProcessor
    except ImportError:  # pragma: no cover - metrics ship with core; defensive for slim builds
        return None
    processor = MetricsSpanProcessor(meter_provider=meter_provider)

    def record(span: Span) -> None:
        if isinstance(span, ReadableSpan):
            processor.on_end(span)

    return record
