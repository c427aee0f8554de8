"""What the trace page shows: the span tree with timings, agent and retrieval facts, the
scrubbed payloads of each span, and the trace's evaluation results.

Payloads are shown exactly as the payload store holds them: scrubbed, with placeholders,
unless the application chose ``capture_content="full"`` (each payload says which).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Collection
from typing import Any, Final

from obs_core import semconv as sc
from obs_core.payloads import PayloadRecord, PayloadStore, PayloadStoreUnavailable
from obs_core.spans import SpanRecord
from obs_core.store import EvaluationRow, SQLiteEvaluationStore, TraceStore
from obs_core.ui._api import summary_json
from obs_core.ui._params import ApiError, as_float, as_int, as_str

logger = logging.getLogger("obs.ui")

_NS_PER_MS: Final = 1_000_000
_PAYLOAD_FIELDS: Final = {"capture", "input", "output", "documents", "error_message", "truncated"}


def trace_detail(store: TraceStore, trace_id: str, *,
                 evaluations: SQLiteEvaluationStore | None = None,
                 payloads: PayloadStore | None = None,
                 hallucination_evaluators: Collection[str] = ()) -> dict[str, Any]:
    """The summary, every span in tree order (parents before children) with depths and its
    payload, and the evaluation results, oldest first.

    ``payloads_state`` tells the page why a span has no payload: ``off`` (no payload store
    given), ``unavailable`` (the store could not be read just now) or ``ok``.
    """
    summary = store.get_summary(trace_id)
    spans = store.get_trace(trace_id)
    if summary is None or not spans:
        raise ApiError(f"no trace {trace_id!r}", status=404)
    rows = evaluations.for_trace(trace_id) if evaluations is not None else []
    records, state = _payloads(payloads, trace_id)
    names = {span.span_id: span.name for span in spans}
    checks = frozenset(hallucination_evaluators)
    flagged = any(row.evaluator in checks and row.passed is False for row in rows)
    return {
        "summary": summary_json(summary, hallucination_flagged=flagged),
        "spans": [_span_json(span, depth, summary.start_time_ns, records.get(span.span_id))
                  for span, depth in _tree_order(spans)],
        "evaluations": [_evaluation_json(row, names, checks) for row in rows],
        "payloads_state": state,
    }


def _payloads(payloads: PayloadStore | None,
              trace_id: str) -> tuple[dict[str, PayloadRecord], str]:
    if payloads is None:
        return {}, "off"
    try:
        records = payloads.get_trace(trace_id)
    except PayloadStoreUnavailable as exc:
        logger.warning("obs ui: payloads of %s unavailable: %s", trace_id, exc)
        return {}, "unavailable"
    return {record.span_id: record for record in records}, "ok"


def _tree_order(spans: list[SpanRecord]) -> list[tuple[SpanRecord, int]]:
    """Depth-first, children by start time; spans whose parent is missing become roots."""
    known = {span.span_id for span in spans}
    children: dict[str | None, list[SpanRecord]] = {}
    for span in spans:  # already ordered by start time
        parent = span.parent_span_id if span.parent_span_id in known else None
        children.setdefault(parent, []).append(span)
    ordered: list[tuple[SpanRecord, int]] = []
    stack = [(span, 0) for span in reversed(children.get(None, []))]
    seen: set[str] = set()
    while stack:
        span, depth = stack.pop()
        if span.span_id in seen:  # a cycle in hostile data must not loop forever
            continue
        seen.add(span.span_id)
        ordered.append((span, depth))
        stack.extend((child, depth + 1) for child in reversed(children.get(span.span_id, [])))
    # Spans caught in a parent cycle were never reached from a root: show them, flat.
    ordered.extend((span, 0) for span in spans if span.span_id not in seen)
    return ordered


def _span_json(span: SpanRecord, depth: int, trace_start_ns: int,
               payload: PayloadRecord | None) -> dict[str, Any]:
    attrs = span.attributes
    result: dict[str, Any] = {
        "span_id": span.span_id,
        "parent_span_id": span.parent_span_id,
        "depth": depth,
        "name": span.name,
        "kind": span.kind,
        "offset_ms": (span.start_time_ns - trace_start_ns) / _NS_PER_MS,
        "duration_ms": span.duration_ms,
        "status": span.status,
        "status_message": span.status_message,
        "error_type": as_str(attrs.get(sc.ERROR_TYPE)),
        "model": as_str(attrs.get(sc.GEN_AI_RESPONSE_MODEL) or attrs.get(sc.GEN_AI_REQUEST_MODEL)),
        "input_tokens": as_int(attrs.get(sc.GEN_AI_USAGE_INPUT_TOKENS)),
        "output_tokens": as_int(attrs.get(sc.GEN_AI_USAGE_OUTPUT_TOKENS)),
        "cost_usd": as_float(attrs.get(sc.OBS_USAGE_COST_USD)),
        "agent": None,
        "retrieval": None,
        "payload": None if payload is None else _payload_json(payload),
    }
    if sc.OBS_AGENT_STEP_COUNT in attrs or span.kind == "agent":
        result["agent"] = {
            "steps": as_int(attrs.get(sc.OBS_AGENT_STEP_COUNT)),
            "step_limit": as_int(attrs.get(sc.OBS_AGENT_STEP_LIMIT)),
            "limit_hit": attrs.get(sc.OBS_AGENT_MAX_ITERATIONS_REACHED) is True,
            "stop_reason": as_str(attrs.get(sc.OBS_AGENT_STOP_REASON)),
            "tool_calls": _tool_calls(attrs.get(sc.OBS_AGENT_TOOL_CALLS)),
        }
    if sc.OBS_RETRIEVAL_DOCUMENT_IDS in attrs or sc.OBS_RETRIEVAL_SCORES in attrs:
        ids = attrs.get(sc.OBS_RETRIEVAL_DOCUMENT_IDS)
        scores = attrs.get(sc.OBS_RETRIEVAL_SCORES)
        result["retrieval"] = {
            "document_ids": [str(item) for item in ids] if isinstance(ids, list) else [],
            "scores": [as_float(item) for item in scores] if isinstance(scores, list) else [],
        }
    return result


def _payload_json(record: PayloadRecord) -> dict[str, Any]:
    """The content fields of a payload record; its metadata is already on the span."""
    return record.model_dump(mode="json", include=_PAYLOAD_FIELDS)


def _evaluation_json(row: EvaluationRow, span_names: dict[str, str],
                     hallucination_evaluators: frozenset[str]) -> dict[str, Any]:
    return {
        "evaluator": row.evaluator,
        "span_id": row.span_id,
        "span_name": span_names.get(row.span_id),
        "score": None if row.score is None or not math.isfinite(row.score) else row.score,
        "label": row.label,
        "passed": row.passed,
        "explanation": row.explanation,
        "version": row.version,
        "judge_model": row.judge_model,
        "created_ms": row.created_ns / _NS_PER_MS,
        "hallucination_check": row.evaluator in hallucination_evaluators,
    }


def _tool_calls(raw: object) -> list[dict[str, Any]]:
    """``obs.agent.tool_calls`` is a JSON object name → stats; a bad value shows as none."""
    if not isinstance(raw, str):
        return []
    try:
        parsed = json.loads(raw)
    except ValueError:
        return []
    if not isinstance(parsed, dict):
        return []
    calls = []
    for name, stats in sorted(parsed.items()):
        if not isinstance(stats, dict):
            continue
        calls.append({
            "name": str(name),
            "count": as_int(stats.get("count")),
            "errors": as_int(stats.get("errors")),
            "total_ms": as_float(stats.get("total_ms")),
            "max_ms": as_float(stats.get("max_ms")),
        })
    return calls
