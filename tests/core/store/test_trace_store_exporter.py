"""The OpenTelemetry exporter: faithful conversion, and failure without raising."""

from __future__ import annotations

import logging
import math
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

import pytest
from opentelemetry import context as otel_context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode, format_span_id, format_trace_id

from core.store.store_scenarios import TraceBuilder
from obs_core import self_metrics
from obs_core import semconv as sc
from obs_core.spans import SpanRecord
from obs_core.store import (
    NullTraceStore,
    SQLiteTraceStore,
    StoreClosedError,
    TraceStoreExporter,
    span_record_from_readable,
)


def finished_spans(count: int = 2) -> tuple[ReadableSpan, ...]:
    """Spans made by the real SDK, captured in memory so a test can export them itself."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "exporter-test"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("tests.exporter")
    with tracer.start_as_current_span("parent"):
        for n in range(count - 1):
            with tracer.start_as_current_span(f"child {n}", attributes={sc.OBS_SPAN_KIND: "tool"}):
                pass
    provider.shutdown()
    return memory.get_finished_spans()


def test_spans_are_stored_with_hex_ids_and_their_parent(
    store: SQLiteTraceStore, traces: TraceBuilder
) -> None:
    with traces.span("outer", start_ms=0, end_ms=20) as outer, \
            traces.span("inner", start_ms=5, end_ms=10) as inner:
        pass
    outer_ctx, inner_ctx = outer.get_span_context(), inner.get_span_context()

    stored = {s.name: s for s in store.get_trace(format_trace_id(outer_ctx.trace_id))}

    assert stored["outer"].span_id == format_span_id(outer_ctx.span_id)
    assert len(stored["outer"].trace_id) == 32
    assert len(stored["outer"].span_id) == 16
    assert stored["outer"].parent_span_id is None
    assert stored["inner"].parent_span_id == format_span_id(outer_ctx.span_id)
    assert stored["inner"].span_id == format_span_id(inner_ctx.span_id)


def test_kind_comes_from_the_obs_attribute_and_is_none_for_foreign_spans(
    store: SQLiteTraceStore, traces: TraceBuilder
) -> None:
    with traces.span("user code", start_ms=0, end_ms=20) as root:
        traces.llm(start_ms=1)

    kinds = {s.name: s.kind for s in store.get_trace(format_trace_id(root.get_span_context().trace_id))}

    assert kinds == {"user code": None, "chat gpt-4o-mini": "llm"}


def test_status_events_and_service_name_are_kept(
    store: SQLiteTraceStore, traces: TraceBuilder
) -> None:
    with traces.span("flaky", start_ms=0, end_ms=20, error=ValueError("bad input")) as span:
        span.add_event("retry", {"attempt": 2}, timestamp=traces.at(5))

    (record,) = store.get_trace(format_trace_id(span.get_span_context().trace_id))

    assert (record.status, record.status_message) == ("ERROR", "bad input")
    assert record.service_name == "support-bot"
    assert record.events[0] == {"name": "retry", "time_ns": traces.at(5),
                                "attributes": {"attempt": 2}}
    assert record.events[1]["name"] == "exception"
    assert record.events[1]["attributes"]["exception.message"] == "bad input"


def test_attribute_values_become_plain_json_values() -> None:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    with provider.get_tracer("t").start_as_current_span("values", attributes={
        sc.OBS_RETRIEVAL_SCORES: (0.5, 0.25), sc.OBS_TAGS: ("a", "b"), "ratio": math.inf,
        "flag": True, "count": 3,
    }) as span:
        span.set_status(Status(StatusCode.OK))

    record = span_record_from_readable(memory.get_finished_spans()[0])

    assert record.attributes == {sc.OBS_RETRIEVAL_SCORES: [0.5, 0.25], sc.OBS_TAGS: ["a", "b"],
                                 "ratio": "inf", "flag": True, "count": 3}
    assert record.status == "OK"


def test_export_writes_the_whole_batch(store: SQLiteTraceStore) -> None:
    spans = finished_spans(count=4)
    exporter = TraceStoreExporter(store, close_store=False)

    assert exporter.export(spans) is SpanExportResult.SUCCESS

    (summary,) = store.list_traces()
    assert summary.span_count == 4
    assert summary.root_name == "parent"


def test_read_only_store_makes_export_fail_without_raising(
    store_path: Path, traces: TraceBuilder, caplog: pytest.LogCaptureFixture
) -> None:
    traces.agent_run()  # the file exists and has a schema
    exporter = TraceStoreExporter(SQLiteTraceStore(store_path, read_only=True))

    with caplog.at_level(logging.WARNING, logger="obs.store"):
        first = exporter.export(finished_spans())
        second = exporter.export(finished_spans())
    exporter.shutdown()

    assert (first, second) == (SpanExportResult.FAILURE, SpanExportResult.FAILURE)
    warnings = [r for r in caplog.records if r.name == "obs.store"]
    assert len(warnings) == 1
    assert "readonly" in warnings[0].getMessage()


_DISK_FULL_SCRIPT = textwrap.dedent("""
    import os, resource, signal, sys
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from obs_core.store import SQLiteTraceStore, TraceStoreExporter

    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    for n in range(200):
        with provider.get_tracer("t").start_as_current_span(f"s{n}", attributes={"blob": "x" * 10_000}):
            pass
    exporter = TraceStoreExporter(SQLiteTraceStore(sys.argv[1]))
    # The file system is "full": no file may grow past 64 KiB more than the largest now.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    largest = max(os.path.getsize(sys.argv[1] + suffix) for suffix in ("", "-wal", "-shm"))
    resource.setrlimit(resource.RLIMIT_FSIZE, (largest + 65536, resource.RLIM_INFINITY))
    result = exporter.export(memory.get_finished_spans())
    print(result.name)
""")


def test_full_disk_makes_export_fail_without_raising(store_path: Path) -> None:
    SQLiteTraceStore(store_path).close()

    done = subprocess.run([sys.executable, "-c", _DISK_FULL_SCRIPT, str(store_path)],
                          capture_output=True, text=True, timeout=60, check=False)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "FAILURE"
    assert "trace store write failed" in done.stderr


def test_shutdown_closes_the_store_and_later_exports_fail(store: SQLiteTraceStore) -> None:
    exporter = TraceStoreExporter(store)

    exporter.shutdown()

    assert exporter.export(finished_spans()) is SpanExportResult.FAILURE
    with pytest.raises(StoreClosedError):
        store.count_traces()


def test_shutdown_can_leave_a_shared_store_open(store: SQLiteTraceStore) -> None:
    TraceStoreExporter(store, close_store=False).shutdown()

    assert store.count_traces() == 0


class _RecordingStore(NullTraceStore):
    def __init__(self) -> None:
        self.suppressed: list[object] = []

    def write(self, records: Sequence[SpanRecord]) -> None:
        self.suppressed.append(
            otel_context.get_value(otel_context._SUPPRESS_INSTRUMENTATION_KEY)
        )


def test_store_writes_run_with_instrumentation_suppressed() -> None:
    store = _RecordingStore()

    TraceStoreExporter(store).export(finished_spans())

    assert store.suppressed == [True]


class _BrokenStore(NullTraceStore):
    def write(self, records: Sequence[SpanRecord]) -> None:
        raise TypeError("a bug in the store")


def test_a_bug_in_the_store_surfaces_under_the_test_suite() -> None:
    with pytest.raises(TypeError, match="a bug in the store"):
        TraceStoreExporter(_BrokenStore()).export(finished_spans())


@pytest.mark.lenient
def test_a_bug_in_the_store_is_contained_and_counted_in_production() -> None:
    result = TraceStoreExporter(_BrokenStore()).export(finished_spans())

    assert result is SpanExportResult.FAILURE
    assert self_metrics()["internal_errors"] == {"store.export": 1}
