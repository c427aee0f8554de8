"""Metrics from finished spans: any producer that follows the GenAI conventions is measured.

Deriving metrics at span end keeps the framework callback path untouched: the recorder does no
extra work, and spans made by other instrumentations count the same way.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from opentelemetry import metrics, trace
from opentelemetry.context import Context
from opentelemetry.metrics import MeterProvider
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.trace import NonRecordingSpan

from obs_core._guard import guard
from obs_core.metrics._cardinality import CardinalityGuard
from obs_core.metrics._facts import SpanFactsListener, span_facts
from obs_core.metrics._instruments import SpanInstruments

METER_NAME = "obs"


class MetricsSpanProcessor(SpanProcessor):
    """Records GenAI and ``obs.*`` metrics from each finished span and fans the parsed facts out
    to listeners (the alert engine, the drift detector).

    ``on_end`` runs on the thread that ended the span: it parses attributes once, records a few
    instrument values and calls listeners, which must only append to bounded buffers. It never
    raises into the application (failures are counted in ``obs.self.internal_errors``).
    """

    def __init__(
        self,
        meter_provider: MeterProvider | None = None,
        *,
        cardinality: CardinalityGuard | None = None,
        listeners: Iterable[SpanFactsListener] = (),
    ) -> None:
        provider = meter_provider if meter_provider is not None else metrics.get_meter_provider()
        self.cardinality = cardinality if cardinality is not None else CardinalityGuard()
        self._instruments = SpanInstruments(provider.get_meter(METER_NAME), self.cardinality)
        self._listeners: tuple[SpanFactsListener, ...] = tuple(listeners)
        self._lock = threading.Lock()

    def add_listener(self, listener: SpanFactsListener) -> None:
        with self._lock:
            self._listeners = (*self._listeners, listener)

    def remove_listener(self, listener: SpanFactsListener) -> None:
        with self._lock:
            self._listeners = tuple(x for x in self._listeners if x is not listener)

    def on_end(self, span: ReadableSpan) -> None:
        with guard("metrics.on_end"):
            self._measure(span, None)

    def on_end_deferred(self, span: ReadableSpan) -> None:
        """:meth:`on_end` for a span that ended earlier on another thread: values are recorded
        in a context carrying ``span``, so exemplars still point at it. Counter increments are
        summed until :meth:`flush_counters`, which the caller runs after each batch."""
        with guard("metrics.on_end"):
            span_context = span.get_span_context()
            ctx = (trace.set_span_in_context(NonRecordingSpan(span_context))
                   if span_context is not None else None)
            self._measure(span, ctx, batched=True)

    def flush_counters(self) -> None:
        """End of a deferred batch: add the counter increments :meth:`on_end_deferred` summed."""
        with guard("metrics.flush"):
            self._instruments.flush_counters()

    def _measure(self, span: ReadableSpan, ctx: Context | None, *, batched: bool = False) -> None:
        facts = span_facts(span)
        if facts is None:
            return
        self._instruments.record(facts, ctx, batched=batched)
        for listener in self._listeners:
            with guard("metrics.listener"):
                listener.on_span_facts(facts)

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
