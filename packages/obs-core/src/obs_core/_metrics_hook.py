"""Binds a recorder to the span-derived metrics, when the metrics subpackage is available."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry.metrics import MeterProvider
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import Span


def span_metrics_for(meter_provider: MeterProvider | None,
                     listeners: Sequence[Any] = ()) -> Callable[[Span], None] | None:
    """A function recording GenAI and ``obs.*`` metrics from one ended span, or ``None``.

    ``listeners`` (the alert engine, the drift detector) receive the facts parsed from each span,
    so a span is read once for metrics, alerts and drift together.
    """
    try:
        from obs_core.metrics import MetricsSpanProcessor
    except ImportError:  # pragma: no cover - metrics ship with core; defensive for slim builds
        return None
    processor = MetricsSpanProcessor(meter_provider=meter_provider, listeners=listeners)

    def record(span: Span) -> None:
        if isinstance(span, ReadableSpan):
            processor.on_end(span)

    return record
