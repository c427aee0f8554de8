"""What the viewer's JSON API answers: pure functions from the store to JSON-ready dicts.

Kept apart from the HTTP server so every answer can be tested without a socket. Query
parameters arrive as untrusted text; anything unreadable is an :class:`ApiError` (HTTP 400),
never an exception with a traceback. Text from spans is returned as data and escaped by the
page when it is shown.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Mapping
from contextlib import closing
from pathlib import Path
from typing import Any, Final

from obs_core import semconv as sc
from obs_core.spans import SpanRecord
from obs_core.store import TraceFilter, TraceSort, TraceStatus, TraceStore, TraceSummary

MAX_PAGE_SIZE: Final = 500
"""The most traces one list request returns, so a page never asks for the whole store."""

_NS_PER_MS: Final = 1_000_000
_NS_PER_DAY: Final = 86_400 * 1_000_000_000
_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"", "0", "false", "no", "off"})


class ApiError(ValueError):
    """A request the API cannot answer; ``status`` is the HTTP status to send."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


# --- trace list ----------------------------------------------------------------------------

def trace_filter_from_query(query: Mapping[str, str]) -> TraceFilter:
    """Read ``GET /api/traces`` parameters into a :class:`TraceFilter`.

    Times are epoch milliseconds (what a browser's ``Date`` gives); ``order`` is ``asc`` or
    ``desc``; ``limit_hit`` is a boolean flag.
    """
    sort_text = query.get("sort", TraceSort.START.value)
    try:
        sort = TraceSort(sort_text)
    except ValueError:
        raise ApiError(f"unknown sort {sort_text!r}") from None
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise ApiError("order must be asc or desc")
    status_text = query.get("status") or None
    try:
        status = TraceStatus(status_text.upper()) if status_text else None
    except ValueError:
        raise ApiError(f"unknown status {status_text!r}") from None
    since_ms = _int_param(query, "since_ms", minimum=0)
    until_ms = _int_param(query, "until_ms", minimum=0)
    limit = _int_param(query, "limit", minimum=0, maximum=MAX_PAGE_SIZE)
    return TraceFilter(
        since_ns=None if since_ms is None else since_ms * _NS_PER_MS,
        until_ns=None if until_ms is None else until_ms * _NS_PER_MS,
        status=status,
        name_contains=query.get("name") or None,
        model=query.get("model") or None,
        session_id=query.get("session") or None,
        pipeline_version=query.get("pipeline_version") or None,
        limit_hit_only=_bool_param(query, "limit_hit"),
        sort=sort,
        descending=order == "desc",
        limit=50 if limit is None else limit,
        offset=_int_param(query, "offset", minimum=0) or 0,
    )


def list_traces(store: TraceStore, query: Mapping[str, str]) -> dict[str, Any]:
    """One page of trace summaries plus the total that match, for the pager."""
    flt = trace_filter_from_query(query)
    return {
        "total": store.count_traces(flt),
        "limit": flt.limit,
        "offset": flt.offset,
        "traces": [summary_json(summary) for summary in store.list_traces(flt)],
    }


def summary_json(summary: TraceSummary) -> dict[str, Any]:
    return {
        "trace_id": summary.trace_id,
        "root_name": summary.root_name,
        "root_kind": summary.root_kind,
        "start_ms": summary.start_time_ns / _NS_PER_MS,
        "duration_ms": summary.duration_ms,
        "span_count": summary.span_count,
        "input_tokens": summary.input_tokens,
        "output_tokens": summary.output_tokens,
        "total_tokens": summary.total_tokens,
        "cost_usd": summary.cost_usd,
        "error_count": summary.error_count,
        "status": summary.status.value,
        "agent_steps": summary.agent_steps,
        "agent_step_limit": summary.agent_step_limit,
        "agent_limit_hit": summary.agent_limit_hit,
        "models": list(summary.models),
        "session_id": summary.session_id,
        "pipeline_version": summary.pipeline_version,
        "service_name": summary.service_name,
    }


# --- one trace -----------------------------------------------------------------------------

def trace_detail(store: TraceStore, trace_id: str) -> dict[str, Any]:
    """The summary and every span, in tree order (parents before children) with depths."""
    summary = store.get_summary(trace_id)
    spans = store.get_trace(trace_id)
    if summary is None or not spans:
        raise ApiError(f"no trace {trace_id!r}", status=404)
    start_ns = summary.start_time_ns
    ordered = _tree_order(spans)
    return {
        "summary": summary_json(summary),
        "spans": [_span_json(span, depth, start_ns) for span, depth in ordered],
    }


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


def _span_json(span: SpanRecord, depth: int, trace_start_ns: int) -> dict[str, Any]:
    attrs = span.attributes
    input_tokens = _as_int(attrs.get(sc.GEN_AI_USAGE_INPUT_TOKENS))
    output_tokens = _as_int(attrs.get(sc.GEN_AI_USAGE_OUTPUT_TOKENS))
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
        "error_type": _as_str(attrs.get(sc.ERROR_TYPE)),
        "model": _as_str(attrs.get(sc.GEN_AI_RESPONSE_MODEL) or attrs.get(sc.GEN_AI_REQUEST_MODEL)),
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cost_usd": _as_float(attrs.get(sc.OBS_USAGE_COST_USD)),
        "agent": None,
        "retrieval": None,
    }
    if sc.OBS_AGENT_STEP_COUNT in attrs or span.kind == "agent":
        result["agent"] = {
            "steps": _as_int(attrs.get(sc.OBS_AGENT_STEP_COUNT)),
            "step_limit": _as_int(attrs.get(sc.OBS_AGENT_STEP_LIMIT)),
            "limit_hit": attrs.get(sc.OBS_AGENT_MAX_ITERATIONS_REACHED) is True,
            "stop_reason": _as_str(attrs.get(sc.OBS_AGENT_STOP_REASON)),
            "tool_calls": _tool_calls(attrs.get(sc.OBS_AGENT_TOOL_CALLS)),
        }
    if sc.OBS_RETRIEVAL_DOCUMENT_IDS in attrs or sc.OBS_RETRIEVAL_SCORES in attrs:
        ids = attrs.get(sc.OBS_RETRIEVAL_DOCUMENT_IDS)
        scores = attrs.get(sc.OBS_RETRIEVAL_SCORES)
        result["retrieval"] = {
            "document_ids": [str(item) for item in ids] if isinstance(ids, list) else [],
            "scores": [_as_float(item) for item in scores] if isinstance(scores, list) else [],
        }
    return result


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
            "count": _as_int(stats.get("count")),
            "errors": _as_int(stats.get("errors")),
            "total_ms": _as_float(stats.get("total_ms")),
            "max_ms": _as_float(stats.get("max_ms")),
        })
    return calls


# --- overview ------------------------------------------------------------------------------

_PER_DAY_SQL: Final = """
SELECT CAST(start_time_ns / ? AS INTEGER) AS day, COUNT(*), SUM(total_tokens), TOTAL(cost_usd),
       SUM(status = 'ERROR'), SUM(agent_limit_hit)
FROM traces WHERE start_time_ns >= ? AND start_time_ns < ?
GROUP BY day ORDER BY day
"""

_NTH_DURATION_SQL: Final = """
SELECT duration_ns FROM traces WHERE start_time_ns >= ? AND start_time_ns < ?
ORDER BY duration_ns LIMIT 1 OFFSET ?
"""


def overview(db_path: Path, *, since_ns: int, until_ns: int) -> dict[str, Any]:
    """Tokens and cost per day, latency percentiles, error rate and agent limit hits.

    The store has no aggregate queries, so this reads the file through its own read-only
    connection; every value is a bound parameter. Percentiles are nearest-rank, read one row
    each from the sorted durations rather than loading them all.
    """
    if until_ns <= since_ns:
        raise ApiError("until must be after since")
    uri = f"{db_path.resolve().as_uri()}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as conn:
        days = conn.execute(_PER_DAY_SQL, (_NS_PER_DAY, since_ns, until_ns)).fetchall()
        total = sum(int(row[1]) for row in days)
        latency: dict[str, float | None] = {}
        for name, q in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99)):
            row = conn.execute(
                _NTH_DURATION_SQL, (since_ns, until_ns, _nearest_rank(q, total) - 1)
            ).fetchone() if total else None
            latency[name] = None if row is None else int(row[0]) / _NS_PER_MS
    errors = sum(int(row[4] or 0) for row in days)
    return {
        "since_ms": since_ns / _NS_PER_MS,
        "until_ms": until_ns / _NS_PER_MS,
        "trace_count": total,
        "error_count": errors,
        "error_rate": errors / total if total else 0.0,
        "agent_limit_hits": sum(int(row[5] or 0) for row in days),
        "latency_ms": latency,
        "days": [
            {
                "day_ms": int(row[0]) * _NS_PER_DAY // _NS_PER_MS,
                "traces": int(row[1]),
                "tokens": int(row[2] or 0),
                "cost_usd": float(row[3] or 0.0),
                "errors": int(row[4] or 0),
                "agent_limit_hits": int(row[5] or 0),
            }
            for row in days
        ],
    }


def overview_window(query: Mapping[str, str], *, now_ns: int) -> tuple[int, int]:
    """``since_ms``/``until_ms`` if given, else the last ``days`` days (default 14)."""
    days = _int_param(query, "days", minimum=1, maximum=366) or 14
    until_ms = _int_param(query, "until_ms", minimum=0)
    since_ms = _int_param(query, "since_ms", minimum=0)
    until_ns = now_ns + 1 if until_ms is None else until_ms * _NS_PER_MS
    since_ns = until_ns - days * _NS_PER_DAY if since_ms is None else since_ms * _NS_PER_MS
    return since_ns, until_ns


def _nearest_rank(q: float, count: int) -> int:
    """The 1-based rank of the ``q`` quantile among ``count`` sorted values: a percentile
    that is always an observed duration, not an interpolation."""
    return min(count, max(1, math.ceil(q * count)))


# --- parameter reading ---------------------------------------------------------------------

def _int_param(query: Mapping[str, str], name: str, *, minimum: int,
               maximum: int | None = None) -> int | None:
    text = query.get(name)
    if text is None or text == "":
        return None
    try:
        value = int(text)
    except ValueError:
        raise ApiError(f"{name} must be an integer") from None
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise ApiError(f"{name} must be {bound}")
    return value


def _bool_param(query: Mapping[str, str], name: str) -> bool:
    text = query.get(name, "").lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ApiError(f"{name} must be true or false")


def _as_int(value: object) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    return 0


def _as_float(value: object) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
        return number if math.isfinite(number) else 0.0
    return 0.0


def _as_str(value: object) -> str | None:
    return None if value is None else str(value)
