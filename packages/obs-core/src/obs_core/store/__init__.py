"""Local storage of finished spans, and the OpenTelemetry exporter that fills it.

:class:`SQLiteTraceStore` is the embedded default behind ``obs traces`` and ``obs show``;
:class:`TraceStoreExporter` plugs any :class:`TraceStore` into an OpenTelemetry pipeline.
"""

from __future__ import annotations

from obs_core.store._convert import span_record_from_readable
from obs_core.store._evaluations import EvaluationFilter, EvaluationRow, SQLiteEvaluationStore
from obs_core.store._sqlite_traces import SQLiteTraceStore
from obs_core.store.exporter import TraceStoreExporter
from obs_core.store.traces import (
    NullTraceStore,
    StoreClosedError,
    TraceFilter,
    TraceSort,
    TraceStatus,
    TraceStore,
    TraceSummary,
)

__all__ = [
    "EvaluationFilter",
    "EvaluationRow",
    "NullTraceStore",
    "SQLiteEvaluationStore",
    "SQLiteTraceStore",
    "StoreClosedError",
    "TraceFilter",
    "TraceSort",
    "TraceStatus",
    "TraceStore",
    "TraceStoreExporter",
    "TraceSummary",
    "span_record_from_readable",
]
