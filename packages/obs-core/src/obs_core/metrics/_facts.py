"""What metrics, alerts and drift need from one finished span, read once.

The span is parsed a single time on the ending thread; every consumer (instruments, the alert
windows, the drift detector) gets the same small immutable record instead of re-reading
attributes. Spans that carry neither ``obs.span.kind`` nor a GenAI operation name are not ours to
measure and yield ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from obs_core import semconv as sc

_KIND_OF_OPERATION = {
    sc.OP_CHAT: "llm",
    sc.OP_TEXT_COMPLETION: "llm",
    "generate_content": "llm",
    sc.OP_EMBEDDINGS: "embedding",
    sc.OP_EXECUTE_TOOL: "tool",
    sc.OP_INVOKE_AGENT: "agent",
    "create_agent": "agent",
    sc.OP_RETRIEVAL: "retriever",
    sc.OP_INVOKE_WORKFLOW: "chain",
}
_KINDS = frozenset({"agent", "chain", "llm", "tool", "retriever", "embedding", "reranker"})
OTHER_ERROR = "_OTHER"
"""``error.type`` for a span whose status is ERROR but which names no error type (conventions)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class SpanFacts:
    """The measurable facts of one finished obs or GenAI span."""

    kind: str
    """``obs.span.kind``, or inferred from ``gen_ai.operation.name`` for other producers."""
    name: str
    operation: str | None = None
    provider: str | None = None
    model: str | None = None
    error_type: str | None = None
    duration_s: float = 0.0
    end_time_s: float = 0.0
    """Wall-clock end, seconds since the epoch."""
    time_to_first_chunk_s: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost_usd: float | None = None
    agent_name: str | None = None
    agent_steps: int | None = None
    agent_limit_hit: bool = False
    tool_name: str | None = None
    retrieval_scores: tuple[float, ...] = ()
    data_source: str | None = None
    pipeline_version: str | None = None
    user_cohort: str | None = None
    trace_id: int = 0
    span_id: int = 0

    @property
    def is_error(self) -> bool:
        return self.error_type is not None


@dataclass(frozen=True, kw_only=True, slots=True)
class EvaluationFacts:
    """One evaluator result as the metrics and alerts see it."""

    name: str
    score: float | None = None
    passed: bool | None = None
    hallucination: bool | None = None
    """``True``/``False`` when this result is a hallucination check; ``None`` otherwise."""
    pipeline_version: str | None = None
    model: str | None = None
    user_cohort: str | None = None
    time_s: float = 0.0
    trace_id: int = 0
    span_id: int = 0
    attributes: Mapping[str, Any] = field(default_factory=dict)


class SpanFactsListener(Protocol):
    """Receives the facts of every measured span. Called on the thread that ended the span:
    append to a bounded buffer and return; never block."""

    def on_span_facts(self, facts: SpanFacts) -> None: ...


class EvaluationListener(Protocol):
    """Receives every recorded evaluation result; same threading contract as spans."""

    def on_evaluation(self, facts: EvaluationFacts) -> None: ...


def span_facts(span: ReadableSpan) -> SpanFacts | None:
    """Read one finished span; ``None`` when it is not a GenAI or obs span."""
    attrs = _attributes_of(span)
    operation = _str(attrs.get(sc.GEN_AI_OPERATION_NAME))
    kind = _str(attrs.get(sc.OBS_SPAN_KIND))
    if kind not in _KINDS:
        kind = _KIND_OF_OPERATION.get(operation or "")
        if kind is None:
            return None
    start_ns = span.start_time or 0
    end_ns = span.end_time or start_ns
    error_type = _str(attrs.get(sc.ERROR_TYPE))
    if error_type is None and span.status.status_code is StatusCode.ERROR:
        error_type = OTHER_ERROR
    ctx = span.context
    common: dict[str, Any] = {
        "kind": kind,
        "name": span.name,
        "operation": operation,
        "model": _str(attrs.get(sc.GEN_AI_REQUEST_MODEL)),
        "error_type": error_type,
        "duration_s": max(0.0, (end_ns - start_ns) / 1e9),
        "end_time_s": end_ns / 1e9,
        "pipeline_version": _str(attrs.get(sc.OBS_PIPELINE_VERSION)),
        "user_cohort": _str(attrs.get(sc.OBS_USER_COHORT)),
        "trace_id": ctx.trace_id if ctx is not None else 0,
        "span_id": ctx.span_id if ctx is not None else 0,
    }
    # Read only what this kind of span is measured by: on_end runs for every span.
    if kind in ("llm", "embedding"):
        return SpanFacts(
            **common,
            provider=_str(attrs.get(sc.GEN_AI_PROVIDER_NAME)),
            time_to_first_chunk_s=_float(attrs.get(sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK)),
            input_tokens=_int(attrs.get(sc.GEN_AI_USAGE_INPUT_TOKENS)),
            output_tokens=_int(attrs.get(sc.GEN_AI_USAGE_OUTPUT_TOKENS)),
            cost_usd=_float(attrs.get(sc.OBS_USAGE_COST_USD)),
        )
    if kind == "agent":
        return SpanFacts(
            **common,
            agent_name=_str(attrs.get(sc.GEN_AI_AGENT_NAME)),
            agent_steps=_int(attrs.get(sc.OBS_AGENT_STEP_COUNT)),
            agent_limit_hit=attrs.get(sc.OBS_AGENT_MAX_ITERATIONS_REACHED) is True
            or error_type == sc.ERROR_AGENT_LIMIT,
        )
    if kind == "tool":
        return SpanFacts(**common, tool_name=_str(attrs.get(sc.GEN_AI_TOOL_NAME)) or span.name)
    if kind == "retriever":
        return SpanFacts(
            **common,
            retrieval_scores=_floats(attrs.get(sc.OBS_RETRIEVAL_SCORES)),
            data_source=_str(attrs.get(sc.GEN_AI_DATA_SOURCE_ID)) or span.name,
        )
    return SpanFacts(**common)


def _attributes_of(span: ReadableSpan) -> Mapping[str, Any]:
    """The span's attributes, read as cheaply as possible: this runs for every span.

    The SDK hands them out as a read-only proxy over its ``BoundedAttributes``, so every lookup
    runs three Python-level calls; an ended span's attributes no longer change, and the plain
    dict underneath answers the same lookups in C. Any other span (another SDK, a test double)
    is read through its public ``attributes``.
    """
    bounded = getattr(span, "_attributes", None)
    raw = getattr(bounded, "_dict", None)
    if type(raw) is dict:
        return raw
    return span.attributes or {}


def _str(value: object) -> str | None:
    if isinstance(value, str) and value:
        return value
    return None


def _float(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    f = float(value)
    return f if f == f and f not in (float("inf"), float("-inf")) else None


def _int(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    f = _float(value)
    return int(f) if f is not None and f >= 0 else None


def _floats(value: object) -> tuple[float, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        return ()
    out = [f for f in (_float(v) for v in value) if f is not None]
    return tuple(out)
