"""Getting finished spans out of the application thread, boundedly.

The SDK's batch processor drops spans silently when its queue is full; obs promises that every
drop is counted, so it brings its own small processor: ``on_end`` is a non-blocking put, one
daemon thread exports batches with instrumentation suppressed (an instrumented HTTP client inside
an exporter must not trace its own exports), and failures and overflow are counted.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence

from opentelemetry import context as otel_context
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from obs_core import _selfmetrics
from obs_core._guard import guard

logger = logging.getLogger("obs.export")

_SUPPRESS_KEY = "suppress_instrumentation"  # the key OpenTelemetry instrumentations honour


class _FlushTicket:
    __slots__ = ("number",)

    def __init__(self, number: int) -> None:
        self.number = number


class BoundedExportProcessor(SpanProcessor):
    """Batches finished spans to ``exporter`` from a background thread."""

    def __init__(self, exporter: SpanExporter, *, name: str, max_queue_size: int = 8192,
                 max_batch_size: int = 512, schedule_delay_s: float = 0.5) -> None:
        self.exporter = exporter
        self.name = name
        self._queue: queue.Queue[ReadableSpan | object] = queue.Queue(max_queue_size)
        self._max_batch = max_batch_size
        self._delay = schedule_delay_s
        self._flushed = threading.Condition()
        self._flush_requests = 0
        self._flush_done = 0
        self._closed = False
        self._held = 0
        self._abandoned = False
        self._held_lock = threading.Lock()
        self._thread = threading.Thread(target=self._work, name=f"obs-export-{name}", daemon=True)
        self._thread.start()
        _selfmetrics.register_gauge(f"queue.{name}", self._queue.qsize)

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return

    def on_end(self, span: ReadableSpan) -> None:
        if self._closed or not span.context.trace_flags.sampled:
            return
        try:
            self._queue.put_nowait(span)
        except queue.Full:
            _selfmetrics.count_drop(f"export_queue_full.{self.name}")

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Wait until everything queued before the call is exported; ``False`` once
        ``timeout_millis`` has passed (the deadline covers enqueueing the request too)."""
        if self._closed:
            return True
        deadline = time.monotonic() + timeout_millis / 1000
        with self._flushed:
            self._flush_requests += 1
            ticket = self._flush_requests
        try:
            self._queue.put(_FlushTicket(ticket), timeout=max(0.0, deadline - time.monotonic()))
        except queue.Full:
            return False
        with self._flushed:
            while self._flush_done < ticket:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._thread.is_alive():
                    return False
                self._flushed.wait(remaining)
        return True

    def shutdown(self, timeout_s: float = 5.0) -> None:
        """Flush what fits in ``timeout_s``, then stop; spans still queued or held by an
        export that has not returned are counted as dropped (``export_shutdown.<name>``)
        before this returns, rather than lost silently.

        An export blocked on a collector that never answers cannot be interrupted; its
        thread is abandoned (a daemon) and ends by itself when the exporter's own request
        timeout expires, without exporting anything more."""
        if self._closed:
            return
        deadline = time.monotonic() + timeout_s
        self.force_flush(timeout_millis=int(timeout_s * 1000))
        self._closed = True
        try:  # spans that ended during the flush are still exported, within the deadline
            self._queue.put(None, timeout=max(0.0, deadline - time.monotonic()))
        except queue.Full:
            pass
        self._thread.join(timeout=max(0.05, deadline - time.monotonic()))
        with self._held_lock:
            # From here on the worker exports nothing: it counts whatever it still takes
            # from the queue and exits at its next step.
            self._abandoned = True
            left, self._held = self._held, 0
        with guard(f"export.{self.name}.shutdown"):
            self.exporter.shutdown()  # an OTLP exporter abandons its retries on this
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            left += isinstance(item, ReadableSpan)
        if left:
            _selfmetrics.count_drop(f"export_shutdown.{self.name}", left)

    def _work(self) -> None:
        ctx = otel_context.set_value(_SUPPRESS_KEY, True)
        api_key = getattr(otel_context, "_SUPPRESS_INSTRUMENTATION_KEY", None)
        if api_key is not None:  # the key newer instrumentations check
            ctx = otel_context.set_value(api_key, True, ctx)
        token = otel_context.attach(ctx)
        try:
            self._drain()
        finally:
            otel_context.detach(token)

    def _drain(self) -> None:
        """The worker loop; returns on the ``None`` sentinel or once shutdown abandoned it."""
        batch: list[ReadableSpan] = []
        while True:
            try:
                item = self._queue.get(timeout=self._delay)
            except queue.Empty:
                if not self._export(batch):
                    return
                batch = []
                continue
            if item is None:
                self._export(batch)
                return
            if isinstance(item, _FlushTicket):
                if not self._export(batch):
                    return
                batch = []
                with self._flushed:
                    self._flush_done = max(self._flush_done, item.number)
                    self._flushed.notify_all()
                continue
            with self._held_lock:
                if self._abandoned:  # shutdown has already counted what it saw
                    _selfmetrics.count_drop(f"export_shutdown.{self.name}")
                    return
                self._held += 1
            batch.append(item)  # type: ignore[arg-type]
            if len(batch) >= self._max_batch:
                if not self._export(batch):
                    return
                batch = []

    def _export(self, batch: Sequence[ReadableSpan]) -> bool:
        """Export ``batch`` and settle its count; ``False`` once shutdown has abandoned the
        worker (the batch was then counted by shutdown and the worker must stop)."""
        if self._is_abandoned():
            return False
        if not batch:
            return True
        result = SpanExportResult.FAILURE
        with guard(f"export.{self.name}"):
            result = self.exporter.export(batch)
        with self._held_lock:
            if self._abandoned:
                return False
            self._held -= len(batch)
        if result is not SpanExportResult.SUCCESS:
            _selfmetrics.count_drop(f"export_failed.{self.name}", len(batch))
        return True

    def _is_abandoned(self) -> bool:
        with self._held_lock:
            return self._abandoned
