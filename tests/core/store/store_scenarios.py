"""Real spans for the store tests: the OpenTelemetry SDK feeding the store's exporter."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Span, Status, StatusCode, format_trace_id

from obs_core import semconv as sc
from obs_core.spans import SpanRecord
from obs_core.store import SQLiteTraceStore, TraceStoreExporter

BASE_NS = 1_700_000_000_000_000_000
"""A fixed instant (Nov 2023) so times in assertions are exact."""
MS = 1_000_000


def at(ms: float) -> int:
    return BASE_NS + int(ms * MS)


class TraceBuilder:
    """Records spans with explicit times (ms after ``base_ns``) through the real SDK."""

    def __init__(self, store: SQLiteTraceStore, *, base_ns: int = BASE_NS) -> None:
        self.base_ns = base_ns
        self.provider = TracerProvider(resource=Resource.create({"service.name": "support-bot"}))
        self.exporter = TraceStoreExporter(store, close_store=False)
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.tracer = self.provider.get_tracer("tests.store")

    @contextmanager
    def span(
        self,
        name: str,
        *,
        start_ms: float,
        end_ms: float,
        attributes: dict[str, Any] | None = None,
        error: Exception | None = None,
        context: Context | None = None,
    ) -> Iterator[Span]:
        span = self.tracer.start_span(
            name, context=context, start_time=self.at(start_ms), attributes=attributes
        )
        with trace.use_span(span, end_on_exit=False):
            yield span
        if error is not None:
            span.set_attribute(sc.ERROR_TYPE, type(error).__name__)
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, str(error)))
        span.end(end_time=self.at(end_ms))

    def at(self, ms: float) -> int:
        return self.base_ns + int(ms * MS)

    def llm(self, *, start_ms: float, model: str = "gpt-4o-mini", input_tokens: int = 100,
            output_tokens: int = 20, cost: float = 0.001, **extra: Any) -> None:
        attributes = {
            sc.OBS_SPAN_KIND: "llm", sc.GEN_AI_OPERATION_NAME: sc.OP_CHAT,
            sc.GEN_AI_REQUEST_MODEL: model, sc.GEN_AI_USAGE_INPUT_TOKENS: input_tokens,
            sc.GEN_AI_USAGE_OUTPUT_TOKENS: output_tokens, sc.OBS_USAGE_COST_USD: cost, **extra,
        }
        with self.span(f"chat {model}", start_ms=start_ms, end_ms=start_ms + 10,
                       attributes=attributes):
            pass

    def agent_run(self, *, start_ms: float = 0, session: str = "session-1",
                  pipeline_version: str = "v7", step_limit: int = 3,
                  limit_hit: bool = True) -> str:
        """A user's request span around an agent: 3 model calls, 2 tool calls (one failing),
        one retrieval. The agent and root carry roll-ups that must not be counted twice."""
        tools = {"lookup_order": {"count": 2, "errors": 1, "total_ms": 20.0, "max_ms": 12.0}}
        agent_attributes = {
            sc.OBS_SPAN_KIND: "agent", sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_AGENT,
            sc.GEN_AI_AGENT_NAME: "support", sc.OBS_ROOT: True, sc.OBS_SESSION_ID: session,
            sc.OBS_PIPELINE_VERSION: pipeline_version, sc.OBS_AGENT_STEP_COUNT: 3,
            sc.OBS_AGENT_STEP_LIMIT: step_limit,
            sc.OBS_AGENT_MAX_ITERATIONS_REACHED: limit_hit,
            sc.OBS_AGENT_STOP_REASON: "max_iterations" if limit_hit else "finish",
            sc.OBS_AGENT_TOOL_CALLS: json.dumps(tools), sc.OBS_AGENT_TOOL_CALL_COUNT: 2,
            sc.OBS_ROLLUP_INPUT_TOKENS: 300, sc.OBS_ROLLUP_OUTPUT_TOKENS: 60,
            sc.OBS_ROLLUP_TOTAL_TOKENS: 360, sc.OBS_ROLLUP_COST_USD: 0.003,
        }
        with self.span("handle_request", start_ms=start_ms, end_ms=start_ms + 500) as root, \
                self.span("invoke_agent support", start_ms=start_ms + 5, end_ms=start_ms + 490,
                          attributes=agent_attributes):
            for step in range(3):
                self.llm(start_ms=start_ms + 10 + step * 100)
                if step < 2:
                    with self.span(
                        "execute_tool lookup_order", start_ms=start_ms + 30 + step * 100,
                        end_ms=start_ms + 40 + step * 100,
                        attributes={sc.OBS_SPAN_KIND: "tool", sc.GEN_AI_TOOL_NAME: "lookup_order"},
                        error=TimeoutError("order service timed out") if step == 1 else None,
                    ):
                        pass
            with self.span(
                "retrieval faq", start_ms=start_ms + 400, end_ms=start_ms + 420,
                attributes={sc.OBS_SPAN_KIND: "retriever", sc.OBS_RETRIEVAL_DOCUMENT_COUNT: 3,
                            sc.OBS_RETRIEVAL_SCORES: (0.91, 0.5, 0.12)},
            ):
                pass
        return format_trace_id(root.get_span_context().trace_id)


def span_record(trace_id: str, span_id: str, *, name: str = "step", start_ms: float = 0,
                end_ms: float = 10, parent: str | None = None, **fields: Any) -> SpanRecord:
    """A record as another process's exporter would hand it over, for edge-case ids."""
    return SpanRecord(trace_id=trace_id, span_id=span_id, parent_span_id=parent, name=name,
                      start_time_ns=at(start_ms), end_time_ns=at(end_ms), **fields)
