"""Trace pages for odd or hostile span data: every stored span is shown, nothing raises."""

from __future__ import annotations

from pathlib import Path

from obs_core import semconv as sc
from obs_core.spans import SpanRecord
from obs_core.store import SQLiteTraceStore
from obs_core.ui._trace import trace_detail

TRACE = "ab" * 16


def _span(span_id: str, parent: str | None, start: int, **attributes: object) -> SpanRecord:
    return SpanRecord(trace_id=TRACE, span_id=span_id, parent_span_id=parent, name=span_id,
                      start_time_ns=start, end_time_ns=start + 1_000_000,
                      attributes=dict(attributes))


def test_spans_in_a_parent_cycle_are_still_listed(tmp_path: Path) -> None:
    with SQLiteTraceStore(tmp_path / "t.db") as store:
        store.write([_span("root", None, 0), _span("a", "b", 10), _span("b", "a", 20)])
        spans = trace_detail(store, TRACE)["spans"]
    assert [(s["span_id"], s["depth"]) for s in spans] == [("root", 0), ("a", 0), ("b", 0)]


def test_span_whose_parent_is_elsewhere_is_shown_as_a_root(tmp_path: Path) -> None:
    with SQLiteTraceStore(tmp_path / "t.db") as store:
        store.write([_span("local", "remote-parent", 0), _span("child", "local", 5)])
        spans = trace_detail(store, TRACE)["spans"]
    assert [(s["span_id"], s["depth"]) for s in spans] == [("local", 0), ("child", 1)]


def test_malformed_agent_attributes_show_as_empty_values(tmp_path: Path) -> None:
    with SQLiteTraceStore(tmp_path / "t.db") as store:
        store.write([_span("agent", None, 0, **{
            sc.OBS_SPAN_KIND: "agent", sc.OBS_AGENT_STEP_COUNT: "many",
            sc.OBS_AGENT_TOOL_CALLS: "{not json", sc.OBS_RETRIEVAL_SCORES: "high"})])
        [span] = trace_detail(store, TRACE)["spans"]
    assert span["agent"]["steps"] == 0
    assert span["agent"]["tool_calls"] == []
    assert span["retrieval"] == {"document_ids": [], "scores": []}
