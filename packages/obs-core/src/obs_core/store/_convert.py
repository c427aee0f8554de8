"""OpenTelemetry ``ReadableSpan`` → :class:`~obs_core.spans.SpanRecord`.

Values are made JSON-safe here (sequences become lists, non-finite floats become strings) so
the store can serialise them without surprises and readers get back what they would expect.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import format_span_id, format_trace_id

from obs_core import semconv
from obs_core.spans import SpanRecord


def span_record_from_readable(span: ReadableSpan) -> SpanRecord:
    """Raises ``ValueError`` for a span without a context (never produced by the SDK)."""
    context = span.context
    if context is None:
        raise ValueError(f"span {span.name!r} has no context")
    attributes = json_safe_attributes(span.attributes)
    kind = attributes.get(semconv.OBS_SPAN_KIND)
    start = span.start_time or 0
    end = span.end_time if span.end_time is not None else start
    service = span.resource.attributes.get(semconv.SERVICE_NAME) if span.resource else None
    return SpanRecord(
        trace_id=format_trace_id(context.trace_id),
        span_id=format_span_id(context.span_id),
        parent_span_id=format_span_id(span.parent.span_id) if span.parent else None,
        name=span.name,
        kind=kind if isinstance(kind, str) else None,
        start_time_ns=start,
        end_time_ns=end,
        status=span.status.status_code.name,
        status_message=span.status.description or None,
        attributes=attributes,
        events=[
            {
                "name": event.name,
                "time_ns": event.timestamp,
                "attributes": json_safe_attributes(event.attributes),
            }
            for event in span.events
        ],
        service_name=service if isinstance(service, str) else None,
    )


def json_safe_attributes(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    if not attributes:
        return {}
    return {str(key): _json_safe(value) for key, value in attributes.items()}


def _json_safe(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)
