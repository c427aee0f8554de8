"""Assertion helpers of the LlamaIndex tests, imported as ``llamaindex._support`` (``tests`` is
on pytest's ``pythonpath``)."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from obs_core import semconv as sc
from obs_core.testing import ReportedUsage, SpanCapture


def attrs(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def of_kind(capture: SpanCapture, kind: str) -> list[ReadableSpan]:
    """Finished spans whose ``obs.span.kind`` is ``kind``, in start order."""
    found = [s for s in capture.spans if attrs(s).get(sc.OBS_SPAN_KIND) == kind]
    return sorted(found, key=lambda s: s.start_time or 0)


def usage_by_response_id(usage_log: list[ReportedUsage]) -> dict[str, ReportedUsage]:
    return {u.response_id: u for u in usage_log}


def assert_tokens_match_server(span: ReadableSpan, usage_log: list[ReportedUsage]) -> None:
    """The span's token numbers are exactly what the server reported for its response."""
    a = attrs(span)
    reported = usage_by_response_id(usage_log)[str(a[sc.GEN_AI_RESPONSE_ID])]
    assert a[sc.GEN_AI_USAGE_INPUT_TOKENS] == reported.prompt_tokens
    assert a[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == reported.completion_tokens
    assert a[sc.OBS_USAGE_TOTAL_TOKENS] == reported.total_tokens
