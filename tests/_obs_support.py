"""Helpers shared by the test folders (on sys.path through pytest's ``pythonpath``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


class Spans:
    """Finished spans of one test, with the lookups the recorder tests need."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider()
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))

    @property
    def all(self) -> tuple[ReadableSpan, ...]:
        return self.exporter.get_finished_spans()

    def named(self, name: str) -> ReadableSpan:
        matches = [s for s in self.all if s.name == name]
        assert len(matches) == 1, f"{name!r}: {[s.name for s in self.all]}"
        return matches[0]

    def parent_of(self, span: ReadableSpan) -> ReadableSpan | None:
        if span.parent is None:
            return None
        return next((s for s in self.all if s.context.span_id == span.parent.span_id), None)

    def attrs(self, name: str) -> Mapping[str, Any]:
        return attrs(self.named(name))


def attrs(span: ReadableSpan) -> Mapping[str, Any]:
    """A span's attributes, never ``None``."""
    return span.attributes or {}
