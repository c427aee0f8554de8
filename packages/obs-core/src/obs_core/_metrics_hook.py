"""Binds a recorder to the span-derived metrics, when the metrics subpackage is available.

Metrics are derived off the callback thread: the recorder hands each ended span to one shared
:class:`~obs_core._deferred.DeferredWork` queue, and its worker parses the span, records the
instruments and feeds the listeners (alerts, drift). Exemplars still point at the measured
span, because the worker records each value in a context that carries that span.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry.metrics import MeterProvider, NoOpMeterProvider
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import Span

from obs_core._deferred import DeferredWork

_span_metrics = DeferredWork(name="span_metrics", drop_reason="span_metrics_queue_full")


def drain_span_metrics(timeout: float = 5.0) -> bool:
    """Record the metrics of every span ended so far (``flush()`` and tests call this)."""
    return _span_metrics.drain(timeout)


def span_metrics_for(meter_provider: MeterProvider | None,
                     listeners: Sequence[Any] = ()) -> Callable[[Span], None] | None:
    """A function handing one ended span over for GenAI and ``obs.*`` metrics, or ``None``.

    Called on the callback thread; it only enqueues. ``listeners`` (the alert engine, the drift
    detector) receive the facts parsed from each span on the worker, so a span is read once for
    metrics, alerts and drift together.
    """
    if isinstance(meter_provider, NoOpMeterProvider) and not listeners:
        return None  # metrics switched off and nobody listening: nothing to derive
    try:
        from obs_core.metrics import MetricsSpanProcessor
    except ImportError:  # pragma: no cover - metrics ship with core; defensive for slim builds
        return None
    processor = MetricsSpanProcessor(meter_provider=meter_provider, listeners=listeners)
    _span_metrics.after_each_batch(processor.flush_counters)
    measure = processor.on_end_deferred
    submit = _span_metrics.submit

    def record(span: Span) -> None:
        if isinstance(span, ReadableSpan):
            submit(measure, span)

    return record
