"""What the viewer's trace list answers: pure functions from the store to JSON-ready dicts.

Kept apart from the HTTP server so every answer can be tested without a socket. Text from
spans is returned as data and escaped by the page when it is shown. The trace page is
:mod:`obs_core.ui._trace`, the overview :mod:`obs_core.ui._overview`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any, Final

from obs_core.store import TraceFilter, TraceSort, TraceStatus, TraceStore, TraceSummary
from obs_core.ui._params import ApiError, bool_param, int_param
from obs_core.ui._sql import flagged_trace_ids

MAX_PAGE_SIZE: Final = 500
"""The most traces one list request returns, so a page never asks for the whole store."""

_NS_PER_MS: Final = 1_000_000


def trace_filter_from_query(query: Mapping[str, str], *,
                            hallucination_evaluators: Collection[str] = ()) -> TraceFilter:
    """Read ``GET /api/traces`` parameters into a :class:`TraceFilter`.

    Times are epoch milliseconds (what a browser's ``Date`` gives); ``order`` is ``asc`` or
    ``desc``; ``limit_hit`` and ``hallucination`` are boolean flags, the latter meaning "one
    of ``hallucination_evaluators`` failed the trace".
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
    since_ms = int_param(query, "since_ms", minimum=0)
    until_ms = int_param(query, "until_ms", minimum=0)
    limit = int_param(query, "limit", minimum=0, maximum=MAX_PAGE_SIZE)
    flagged = bool_param(query, "hallucination")
    return TraceFilter(
        since_ns=None if since_ms is None else since_ms * _NS_PER_MS,
        until_ns=None if until_ms is None else until_ms * _NS_PER_MS,
        status=status,
        name_contains=query.get("name") or None,
        model=query.get("model") or None,
        session_id=query.get("session") or None,
        pipeline_version=query.get("pipeline_version") or None,
        limit_hit_only=bool_param(query, "limit_hit"),
        # An empty name list would mean "no filter": ask for an impossible name instead, so
        # the flag still narrows the list when no hallucination check is configured.
        failed_evaluators=(tuple(sorted(hallucination_evaluators)) or ("",)) if flagged else (),
        sort=sort,
        descending=order == "desc",
        limit=50 if limit is None else limit,
        offset=int_param(query, "offset", minimum=0) or 0,
    )


def list_traces(store: TraceStore, query: Mapping[str, str], *, db_path: Path | None = None,
                hallucination_evaluators: Collection[str] = ()) -> dict[str, Any]:
    """One page of trace summaries plus the total that match, for the pager.

    With ``db_path`` (the store's file) each summary also says whether a hallucination check
    flagged it, read for the whole page in one query.
    """
    flt = trace_filter_from_query(query, hallucination_evaluators=hallucination_evaluators)
    summaries = store.list_traces(flt)
    flagged = (flagged_trace_ids(db_path, [s.trace_id for s in summaries], hallucination_evaluators)
               if db_path is not None else set())
    return {
        "total": store.count_traces(flt),
        "limit": flt.limit,
        "offset": flt.offset,
        "traces": [summary_json(s, hallucination_flagged=s.trace_id in flagged)
                   for s in summaries],
    }


def summary_json(summary: TraceSummary, *, hallucination_flagged: bool = False) -> dict[str, Any]:
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
        "hallucination_flagged": hallucination_flagged,
        "models": list(summary.models),
        "session_id": summary.session_id,
        "pipeline_version": summary.pipeline_version,
        "service_name": summary.service_name,
    }
