"""An OpenTelemetry span exporter that writes into a :class:`~obs_core.store.TraceStore`."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Sequence

from opentelemetry import context as otel_context
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from obs_core import _guard, _selfmetrics
from obs_core.spans import SpanRecord
from obs_core.store._convert import span_record_from_readable
from obs_core.store.traces import StoreClosedError, TraceStore

logger = logging.getLogger("obs.store")

_ENVIRONMENT_ERRORS = (sqlite3.Error, OSError, StoreClosedError)
"""Failures of the disk or database rather than of obs: full disk, read-only file, lock
timeouts, a store closed at exit. Anything else is a bug and goes through the guard."""

_PLAIN_SUPPRESS_KEY = "suppress_instrumentation"
"""The context key contrib instrumentations check besides the API's own."""


class TraceStoreExporter(SpanExporter):
    """Writes each exported batch to ``store`` in one transaction.

    ``export`` runs on the span processor's worker thread and does not raise: a span that
    cannot be converted is dropped and counted, and a failed write (read-only file, full disk,
    locked database) returns ``FAILURE`` after logging once per kind of error; the caller
    counts the lost batch. Unexpected exceptions (bugs) are reported through the obs guard,
    which re-raises them only in strict mode (the test suite). With ``close_store``
    (the default) :meth:`shutdown` closes the store, which this exporter is normally the only
    writer of.
    """

    def __init__(self, store: TraceStore, *, close_store: bool = True) -> None:
        self._store = store
        self._close_store = close_store
        self._shutdown = False
        self._lock = threading.Lock()
        self._logged: set[str] = set()

    @property
    def store(self) -> TraceStore:
        return self._store

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self._shutdown:
            return SpanExportResult.FAILURE
        records = self._convert(spans)
        # SQLite may be instrumented by the application; writing must not create spans.
        suppressed = otel_context.set_value(otel_context._SUPPRESS_INSTRUMENTATION_KEY, True)
        token = otel_context.attach(otel_context.set_value(_PLAIN_SUPPRESS_KEY, True, suppressed))
        try:
            self._store.write(records)
        except _ENVIRONMENT_ERRORS as exc:
            self._log_once("write", exc)
            return SpanExportResult.FAILURE
        except Exception as exc:
            _guard.report("store.export", exc)
            if _guard.is_strict():
                raise
            return SpanExportResult.FAILURE
        finally:
            otel_context.detach(token)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        with self._lock:
            if self._shutdown:
                return
            self._shutdown = True
        if self._close_store:
            with _guard.guard("store.shutdown"):
                self._store.close()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Writes are synchronous, so there is never anything to flush."""
        return True

    def _convert(self, spans: Sequence[ReadableSpan]) -> list[SpanRecord]:
        converted = (self._convert_one(span) for span in spans)
        return [record for record in converted if record is not None]

    def _convert_one(self, span: ReadableSpan) -> SpanRecord | None:
        try:
            return span_record_from_readable(span)
        except Exception as exc:
            # One odd span must not lose the batch; in strict mode the guard re-raises.
            _selfmetrics.count_drop("trace_store_unconvertible_span")
            _guard.report("store.convert", exc)
            if _guard.is_strict():
                raise
            return None

    def _log_once(self, stage: str, exc: Exception) -> None:
        key = f"{stage}:{type(exc).__name__}"
        with self._lock:
            if key in self._logged:
                return
            self._logged.add(key)
        logger.warning(
            "trace store %s failed (%s: %s); spans are being lost, further errors of this "
            "kind are not logged",
            stage, type(exc).__name__, exc,
        )
