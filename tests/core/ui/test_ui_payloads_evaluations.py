"""The trace page's payloads (from the payload store, as stored: scrubbed) and evaluation
results (from the store's ``evaluations`` table), and the hallucination flag they raise."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from core.ui.ui_scenarios import SCRUBBED_PROMPT, UNGROUNDED_EXPLANATION, Get, Recorded
from obs_core.payloads import PayloadRecord, PayloadStoreUnavailable, PurgeResult
from obs_core.store import SQLiteTraceStore
from obs_core.ui._trace import trace_detail


def test_evaluations_come_with_score_label_result_and_explanation(
        get: Get, recorded: Recorded) -> None:
    body = get(f"/api/traces/{recorded.rag}")[1]
    rows = {e["evaluator"]: e for e in body["evaluations"]}
    assert set(rows) == {"groundedness", "safety"}
    grounded = rows["groundedness"]
    assert (grounded["score"], grounded["label"], grounded["passed"]) == (0.25, "ungrounded", False)
    assert grounded["explanation"] == UNGROUNDED_EXPLANATION
    assert grounded["span_name"] == "rag query"
    assert grounded["hallucination_check"] is True
    assert rows["safety"]["hallucination_check"] is False


def test_a_failed_hallucination_check_flags_the_trace(get: Get, recorded: Recorded) -> None:
    assert get(f"/api/traces/{recorded.rag}")[1]["summary"]["hallucination_flagged"] is True
    assert get(f"/api/traces/{recorded.agent}")[1]["summary"]["hallucination_flagged"] is False


def test_each_payload_is_attached_to_its_span(get: Get, recorded: Recorded) -> None:
    body = get(f"/api/traces/{recorded.rag}")[1]
    assert body["payloads_state"] == "ok"
    by_kind = {s["kind"]: s["payload"] for s in body["spans"]}
    assert by_kind["chain"] is None
    assert by_kind["llm"]["input"] == [{"role": "user", "content": SCRUBBED_PROMPT}]
    assert by_kind["llm"]["capture"] == "redacted"
    assert [(d["id"], d["content"]) for d in by_kind["retriever"]["documents"]] == [
        ("d1", "Paris is in France."), ("d2", "Lyon too.")]


def test_without_a_payload_store_spans_have_no_payload_and_say_why(recorded: Recorded) -> None:
    with SQLiteTraceStore(recorded.db, read_only=True) as store:
        body = trace_detail(store, recorded.rag)
    assert body["payloads_state"] == "off"
    assert all(span["payload"] is None for span in body["spans"])
    assert body["evaluations"] == []


class _UnreachablePayloads:
    def write(self, records: Sequence[PayloadRecord]) -> int:
        raise PayloadStoreUnavailable("down")

    def get_trace(self, trace_id: str) -> list[PayloadRecord]:
        raise PayloadStoreUnavailable("connection refused")

    def search(self, *, session_id: str | None = None, pipeline_version: str | None = None,
               prompt_hash: str | None = None, since: datetime | None = None,
               until: datetime | None = None, limit: int = 100) -> list[PayloadRecord]:
        raise PayloadStoreUnavailable("down")

    def purge(self, *, older_than: datetime) -> PurgeResult:
        raise PayloadStoreUnavailable("down")

    def close(self) -> None:
        return None


def test_an_unreachable_payload_store_still_shows_the_trace(recorded: Recorded) -> None:
    with SQLiteTraceStore(recorded.db, read_only=True) as store:
        body = trace_detail(store, recorded.rag, payloads=_UnreachablePayloads())
    assert body["payloads_state"] == "unavailable"
    assert [s["kind"] for s in body["spans"]] == ["chain", "retriever", "llm"]
