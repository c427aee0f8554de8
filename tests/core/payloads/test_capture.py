"""Payload capture: which runs become records, and what a record holds."""

from __future__ import annotations

import json
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.payloads.payload_factories import (
    SECRET,
    chat,
    make_capture,
    make_run,
    real_scrubber,
    trace_id,
)
from obs_core import self_metrics
from obs_core.payloads import PayloadCapture, PayloadEventLog, SQLitePayloadStore
from obs_core.payloads._hashing import PromptHasher
from obs_core.spans import RetrievedDocument, SpanKind, TokenUsage


@pytest.fixture
def capture(store: SQLitePayloadStore) -> Iterator[PayloadCapture]:
    c = make_capture(store)
    yield c
    c.close()


def _stored(capture: PayloadCapture, store: SQLitePayloadStore, tid: str) -> list[Any]:
    assert capture.flush(5)
    return store.get_trace(tid)


def test_a_model_call_is_stored_with_usage_identity_and_messages(
        capture: PayloadCapture, store: SQLitePayloadStore) -> None:
    run = make_run(SpanKind.LLM, inputs=chat("What is 2+2?"),
                   outputs={"role": "assistant", "content": "4"},
                   usage=TokenUsage(input_tokens=12, output_tokens=1), parent="00000000000000aa")
    capture.on_run_end(run)
    [record] = _stored(capture, store, run.trace_id)
    assert (record.kind, record.model, record.status) == ("llm", "gpt-4o-mini", "ok")
    assert (record.input_tokens, record.output_tokens, record.total_tokens) == (12, 1, 13)
    assert (record.span_id, record.parent_span_id) == (run.span_id, "00000000000000aa")
    assert (record.session_id, record.user_cohort, record.pipeline_version) == (
        "session-1", "beta", "v7")
    assert record.input == chat("What is 2+2?")
    assert record.output == {"role": "assistant", "content": "4"}
    assert record.duration_ms == 250.0
    assert record.capture == "redacted"


def test_a_tool_call_keeps_its_arguments_and_result(
        capture: PayloadCapture, store: SQLitePayloadStore) -> None:
    run = make_run(SpanKind.TOOL, name="get_weather", inputs={"city": "Lyon"},
                   outputs="sunny, 24°C", model=None)
    capture.on_run_end(run)
    [record] = _stored(capture, store, run.trace_id)
    assert (record.name, record.input, record.output) == ("get_weather", {"city": "Lyon"},
                                                          "sunny, 24°C")


def test_a_retrieval_keeps_documents_with_ids_scores_and_content_once(
        capture: PayloadCapture, store: SQLitePayloadStore) -> None:
    docs = [RetrievedDocument(id="doc-1", score=0.91, content="Lyon is in France.",
                              metadata={"source": "wiki"}),
            RetrievedDocument(id="doc-2", score=0.42, content="Rhône river.")]
    run = make_run(SpanKind.RETRIEVER, inputs="where is Lyon", documents=docs,
                   outputs=[d.model_dump() for d in docs], model=None)
    capture.on_run_end(run)
    [record] = _stored(capture, store, run.trace_id)
    assert [(d.id, d.score, d.content) for d in record.documents] == [
        ("doc-1", 0.91, "Lyon is in France."), ("doc-2", 0.42, "Rhône river.")]
    assert record.documents[0].metadata == {"source": "wiki"}
    assert record.output is None  # the documents already hold the results
    assert record.input == "where is Lyon"


def test_an_embedding_keeps_the_count_but_neither_texts_nor_vectors(
        capture: PayloadCapture, store: SQLitePayloadStore) -> None:
    run = make_run(SpanKind.EMBEDDING, inputs=["first text", "second text"],
                   outputs=[[0.1, 0.2], [0.3, 0.4]], embedding_input_count=2)
    capture.on_run_end(run)
    [record] = _stored(capture, store, run.trace_id)
    assert record.embedding_input_count == 2
    assert record.embedding_dimensions == 384
    assert (record.input, record.output) == (None, None)
    assert record.prompt_hash is not None


class _Described:
    """A foreign object: stored as its description."""

    def __str__(self) -> str:
        return "handle\x00\ud800"


def test_nul_and_lone_surrogates_are_replaced_in_values_keys_and_descriptions(
        capture: PayloadCapture, store: SQLitePayloadStore) -> None:
    run = make_run(SpanKind.TOOL, name="lookup", model=None,
                   inputs={"ke\x00y": ["a\x00b", "c\udcffd"], "obj": _Described()},
                   outputs="done\x00")
    capture.on_run_end(run)
    [record] = _stored(capture, store, run.trace_id)
    assert record.input == {"ke\ufffdy": ["a\ufffdb", "c?d"], "obj": "handle\ufffd?"}
    assert record.output == "done\ufffd"


@pytest.mark.parametrize("kind", [SpanKind.CHAIN, SpanKind.AGENT])
def test_chains_and_agents_are_not_captured(
        capture: PayloadCapture, store: SQLitePayloadStore, kind: SpanKind) -> None:
    run = make_run(kind, inputs={"question": "hi"}, outputs={"answer": "hello"})
    capture.on_run_end(run)
    assert _stored(capture, store, run.trace_id) == []


def test_a_failed_run_is_stored_as_an_error_without_output(
        capture: PayloadCapture, store: SQLitePayloadStore) -> None:
    run = make_run(SpanKind.TOOL, inputs={"q": "x"}, failed=TimeoutError("upstream took 30s"))
    capture.on_run_end(run)
    [record] = _stored(capture, store, run.trace_id)
    assert (record.status, record.error_type, record.error_message) == (
        "error", "TimeoutError", "upstream took 30s")
    assert record.output is None


@pytest.mark.parametrize(("trace", "span"), [("", "00000000000000ab"), (None, "")])
def test_a_run_without_ids_is_dropped_and_counted(
        capture: PayloadCapture, store: SQLitePayloadStore, trace: str | None, span: str) -> None:
    capture.on_run_end(make_run(trace=trace, span=span, inputs=chat("hi")))
    assert capture.flush(5)
    assert store.search(limit=10) == []
    assert self_metrics()["dropped"] == {"payload_missing_id": 1}


def test_equal_prompts_share_a_hash_whatever_their_key_order(
        capture: PayloadCapture, store: SQLitePayloadStore) -> None:
    tid = trace_id()
    first = make_run(trace=tid, inputs={"a": 1, "b": [1, 2]})
    same = make_run(trace=tid, inputs={"b": [1, 2], "a": 1})
    different = make_run(trace=tid, inputs={"a": 2, "b": [1, 2]})
    for run in (first, same, different):
        capture.on_run_end(run)
    by_span = {r.span_id: r.prompt_hash for r in _stored(capture, store, tid)}
    assert by_span[first.span_id] == by_span[same.span_id] != by_span[different.span_id]
    assert {r.span_id for r in store.search(prompt_hash=by_span[first.span_id])} == {
        first.span_id, same.span_id}


def test_the_prompt_hash_is_keyed_and_taken_before_scrubbing() -> None:
    prompt = chat("my address is ada@example.com")
    hashes = {PromptHasher(SECRET).hash(prompt), PromptHasher(b"another-secret-456789").hash(prompt),
              PromptHasher(SECRET).hash(real_scrubber().scrub_value(prompt))}
    assert len(hashes) == 3


def test_conversion_and_scrubbing_happen_on_the_writer_thread_not_the_callback(store: SQLitePayloadStore) -> None:
    seen_threads: list[str] = []
    inner = real_scrubber()

    class SlowScrubber:
        def scrub(self, text: str) -> str:
            return str(inner.scrub(text))

        def scrub_value(self, obj: Any) -> Any:
            seen_threads.append(threading.current_thread().name)
            time.sleep(0.05)
            return inner.scrub_value(obj)

    capture = make_capture(store, scrubber=SlowScrubber())
    started = time.perf_counter()
    for _ in range(5):
        capture.on_run_end(make_run(inputs=chat("hi")))
    callback_cost = time.perf_counter() - started
    assert capture.flush(5)
    capture.close()
    assert callback_cost < 0.2  # converting there would cost 5 x 50 ms
    assert seen_threads
    assert threading.current_thread().name not in seen_threads


def test_a_full_queue_drops_new_runs_and_counts_them(store: SQLitePayloadStore) -> None:
    entered, release = threading.Event(), threading.Event()

    class BlockingScrubber:
        def scrub(self, text: str) -> str:
            return text

        def scrub_value(self, obj: Any) -> Any:
            entered.set()
            release.wait(5)
            return obj

    capture = make_capture(store, scrubber=BlockingScrubber(), max_buffered=3, batch_size=1)
    capture.on_run_end(make_run(inputs="held by the writer"))
    assert entered.wait(5)  # the writer took the first run and is stuck scrubbing it
    for _ in range(5):
        capture.on_run_end(make_run(inputs="queued"))
    release.set()
    assert capture.flush(5)
    capture.close()
    assert self_metrics()["dropped"] == {"payload_queue_full": 2}
    assert len(store.search(limit=100)) == 4


def test_full_mode_keeps_raw_text(store: SQLitePayloadStore) -> None:
    capture = make_capture(store, mode="full")
    run = make_run(inputs=chat("mail ada@example.com"), failed=ValueError("bad ada@example.com"))
    capture.on_run_end(run)
    [record] = _stored(capture, store, run.trace_id)
    capture.close()
    assert record.capture == "full"
    assert record.input == chat("mail ada@example.com")
    assert record.error_message == "bad ada@example.com"


def test_the_event_log_gets_one_json_line_per_record(
        store: SQLitePayloadStore, tmp_path: Path) -> None:
    log_path = tmp_path / "logs" / "payloads.jsonl"
    capture = make_capture(store, event_log=PayloadEventLog(log_path))
    runs = [make_run(inputs=chat(f"question {i}")) for i in range(3)]
    for run in runs:
        capture.on_run_end(run)
    assert capture.flush(5)
    capture.close()
    lines = [json.loads(line) for line in log_path.read_text().splitlines()]
    assert [(e["event"], e["span_id"]) for e in lines] == [("obs.payload", r.span_id) for r in runs]
    assert lines[0]["input"] == chat("question 0")
    assert stat.S_IMODE(log_path.stat().st_mode) == 0o600


def test_without_a_store_the_event_log_alone_receives_records(tmp_path: Path) -> None:
    log_path = tmp_path / "payloads.jsonl"
    capture = make_capture(None, event_log=PayloadEventLog(log_path))
    capture.on_run_end(make_run(inputs="hello"))
    assert capture.flush(5)
    capture.close()
    assert json.loads(log_path.read_text())["input"] == "hello"


def test_runs_after_close_are_dropped_and_counted(capture: PayloadCapture) -> None:
    capture.close()
    capture.on_run_end(make_run(inputs="late"))
    assert self_metrics()["dropped"] == {"payload_after_close": 1}


def test_capture_reports_no_internal_errors_on_ordinary_runs(
        capture: PayloadCapture, store: SQLitePayloadStore) -> None:
    for kind in (SpanKind.LLM, SpanKind.TOOL, SpanKind.RETRIEVER, SpanKind.EMBEDDING):
        capture.on_run_end(make_run(kind, inputs="x", outputs="y"))
    assert capture.flush(5)
    assert len(store.search(limit=10)) == 4
    assert self_metrics()["internal_errors"] == {}
    assert self_metrics()["dropped"] == {}
