"""In-memory spans and metrics for assertions, on providers of their own.

A capture never touches the global OpenTelemetry providers: tests (ours and users') pass
``capture.tracer_provider`` / ``capture.meter_provider`` to the code under test explicitly, so
captures can run side by side and leave no state behind.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from opentelemetry.sdk.metrics import (
    Counter,
    Histogram,
    MeterProvider,
    ObservableCounter,
    ObservableUpDownCounter,
    UpDownCounter,
)
from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from obs_core import semconv as sc
from obs_core._deferred import drain_all
from obs_core.testing._metric_points import DataPoint, PointTotals

_AGENT_FACTS = (sc.OBS_AGENT_STEP_COUNT, sc.OBS_AGENT_STEP_LIMIT,
                sc.OBS_AGENT_MAX_ITERATIONS_REACHED, sc.OBS_AGENT_STOP_REASON,
                sc.OBS_ROLLUP_TOTAL_TOKENS)

_DELTA: dict[type, AggregationTemporality] = dict.fromkeys(
    (Counter, UpDownCounter, Histogram, ObservableCounter, ObservableUpDownCounter),
    AggregationTemporality.DELTA,
)


def _start(span: ReadableSpan) -> int:
    return span.start_time or 0


class SpanCapture:
    """Fresh tracer and meter providers whose output stays in memory.

    Spans are exported synchronously when they end, so they can be asserted on right after the
    code under test returns. Metric points are totals since the capture began or since the last
    :meth:`clear`.
    """

    def __init__(self, *, resource: Resource | None = None) -> None:
        self.span_exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider(resource=resource, shutdown_on_exit=False)
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.span_exporter))
        self.metric_reader = InMemoryMetricReader(preferred_temporality=dict(_DELTA))
        self.meter_provider = MeterProvider(
            metric_readers=[self.metric_reader],
            resource=resource,
            shutdown_on_exit=False,
        )
        self._totals = PointTotals()
        self._closed = False

    # -- spans -----------------------------------------------------------------------------

    @property
    def spans(self) -> list[ReadableSpan]:
        """Finished spans, in the order they ended."""
        return list(self.span_exporter.get_finished_spans())

    def by_name(self, name: str) -> list[ReadableSpan]:
        """Finished spans called ``name``, in the order they started."""
        return sorted((s for s in self.spans if s.name == name), key=_start)

    def one(self, name: str) -> ReadableSpan:
        """The only finished span called ``name``; fails with the span tree otherwise."""
        found = self.by_name(name)
        if len(found) != 1:
            raise AssertionError(
                f"expected exactly one span named {name!r}, found {len(found)}; spans:\n"
                + self.format_tree()
            )
        return found[0]

    def parent(self, span: ReadableSpan) -> ReadableSpan | None:
        """The captured parent of ``span``, if its parent was captured."""
        if span.parent is None:
            return None
        for candidate in self.spans:
            context = candidate.context
            if (
                context is not None
                and context.span_id == span.parent.span_id
                and context.trace_id == span.parent.trace_id
            ):
                return candidate
        return None

    def children(self, span: ReadableSpan) -> list[ReadableSpan]:
        """Captured spans whose parent is ``span``, in the order they started."""
        context = span.context
        if context is None:
            return []
        return sorted(
            (
                s
                for s in self.spans
                if s.parent is not None
                and s.parent.span_id == context.span_id
                and s.parent.trace_id == context.trace_id
            ),
            key=_start,
        )

    def roots(self) -> list[ReadableSpan]:
        """Spans without a captured parent (trace roots, or children of unfinished spans)."""
        return sorted((s for s in self.spans if self.parent(s) is None), key=_start)

    def tree(self) -> list[tuple[int, str]]:
        """``(depth, name)`` pairs, depth first, siblings in start order: a compact shape to
        compare with an expected nesting."""
        shape: list[tuple[int, str]] = []

        def walk(span: ReadableSpan, depth: int) -> None:
            shape.append((depth, span.name))
            for child in self.children(span):
                walk(child, depth + 1)

        for root in self.roots():
            walk(root, 0)
        return shape

    def format_tree(self) -> str:
        """The span tree as indented lines, for assertion messages."""
        return "\n".join("  " * depth + name for depth, name in self.tree()) or "(no spans)"

    def format_agents(self) -> str:
        """What each agent run did, from its span's attributes: steps against the limit, why it
        stopped, its tool calls and tokens. Agent accounting is the part of a trace people
        look for first, and the tree alone does not show it."""
        lines: list[str] = []
        for span in sorted(self.spans, key=_start):
            attributes = span.attributes or {}
            if attributes.get(sc.OBS_SPAN_KIND) != "agent":
                continue
            facts = {key.rsplit(".", 1)[-1]: attributes[key]
                     for key in _AGENT_FACTS if key in attributes}
            lines.append(f"{span.name} [{span.status.status_code.name}]: {facts}")
            tool_calls = attributes.get(sc.OBS_AGENT_TOOL_CALLS)
            if isinstance(tool_calls, str):
                lines.append(f"  tools: {json.loads(tool_calls)}")
        return "\n".join(lines) or "(no agent spans)"

    # -- metrics ---------------------------------------------------------------------------

    def metric_points(self, name: str) -> list[DataPoint]:
        """Points of metric ``name``, one per attribute set, totalled since the last clear
        (gauges: the latest value)."""
        drain_all()  # span-derived metrics are recorded off the callback thread
        self._totals.add(self.metric_reader.get_metrics_data())
        return self._totals.points(name)

    def metric_names(self) -> list[str]:
        """Names of the metrics recorded since the last clear."""
        drain_all()
        self._totals.add(self.metric_reader.get_metrics_data())
        return self._totals.names()

    # -- lifecycle -------------------------------------------------------------------------

    def clear(self) -> None:
        """Forget the spans and metric values captured so far."""
        self.span_exporter.clear()
        drain_all()
        self.metric_reader.get_metrics_data()
        self._totals.clear()

    def shutdown(self) -> None:
        """Shut both providers down; idempotent."""
        if self._closed:
            return
        self._closed = True
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()

    def __enter__(self) -> SpanCapture:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.shutdown()


@contextmanager
def capture_spans(*, resource: Resource | None = None) -> Iterator[SpanCapture]:
    """A :class:`SpanCapture` that is shut down when the block ends."""
    with SpanCapture(resource=resource) as capture:
        yield capture
