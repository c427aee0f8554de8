"""Redacted mode: planted secrets never reach the database file, its WAL, the blobs or the event
log, including when something goes wrong on the way."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from core.payloads.payload_factories import (
    PG_DSN,
    PLANTED,
    PLANTED_CARD,
    PLANTED_EMAIL,
    PLANTED_KEY,
    chat,
    limiter,
    make_capture,
    make_run,
    raw_bytes,
    span_id,
    trace_id,
)
from obs_core import self_metrics
from obs_core.payloads import PayloadEventLog, PostgresPayloadStore, SQLitePayloadStore
from obs_core.runs import FinishedRun
from obs_core.spans import RetrievedDocument, SpanKind


def _runs_full_of_secrets() -> list[FinishedRun]:
    """Every place a secret can hide: messages, tool args and results, documents and their
    metadata, error messages, the conversation id."""
    return [
        make_run(SpanKind.LLM, inputs=chat(f"I am {PLANTED_EMAIL}, card {PLANTED_CARD}"),
                 outputs={"role": "assistant", "content": f"Noted {PLANTED_EMAIL}"},
                 conversation_id=PLANTED_EMAIL),
        make_run(SpanKind.TOOL, name="charge", inputs={"card": PLANTED_CARD, "api_key": PLANTED_KEY},
                 outputs=f"charged {PLANTED_CARD}"),
        make_run(SpanKind.RETRIEVER, inputs=f"orders of {PLANTED_EMAIL}", documents=[
            RetrievedDocument(id="d1", score=0.9, content=f"Customer {PLANTED_EMAIL} paid",
                              metadata={"owner": PLANTED_EMAIL, "token": PLANTED_KEY})]),
        make_run(SpanKind.TOOL, inputs={"q": "x"},
                 failed=PermissionError(f"key {PLANTED_KEY} rejected for {PLANTED_EMAIL}")),
        make_run(SpanKind.LLM, inputs=chat(f"{PLANTED_EMAIL} " + "pad " * 400)),  # offloaded
    ]


def _assert_clean(data: bytes) -> None:
    for secret in PLANTED:
        assert secret.encode() not in data, secret


def test_sqlite_files_blobs_and_event_log_hold_no_planted_secret(tmp_path: Path) -> None:
    db = tmp_path / "store" / "payloads.db"
    store = SQLitePayloadStore(db)
    blobs = tmp_path / "blobs"
    log = tmp_path / "payloads.jsonl"
    capture = make_capture(store, limiter=limiter(512, blob_dir=blobs),
                           event_log=PayloadEventLog(log))
    for run in _runs_full_of_secrets():
        capture.on_run_end(run)
    assert capture.flush(5)
    records = store.search(limit=10)
    while_open = raw_bytes(db.parent, blobs, log)  # the WAL still holds the new rows
    capture.close()
    after_close = raw_bytes(db.parent, blobs, log)  # checkpointed into the main file
    assert len(records) == 5
    assert any(r.truncated for r in records)
    assert b"charged" in while_open
    assert b"charged" in after_close
    _assert_clean(while_open)
    _assert_clean(after_close)


def test_the_stored_records_still_say_what_happened(tmp_path: Path) -> None:
    store = SQLitePayloadStore(tmp_path / "payloads.db")
    capture = make_capture(store)
    run = _runs_full_of_secrets()[1]
    capture.on_run_end(run)
    assert capture.flush(5)
    [record] = store.get_trace(run.trace_id)
    capture.close()
    assert record.name == "charge"
    assert record.output.startswith("charged ")
    assert set(record.input) == {"card", "api_key"}


def test_placeholders_are_numbered_consistently_within_a_trace(tmp_path: Path) -> None:
    store = SQLitePayloadStore(tmp_path / "payloads.db")
    capture = make_capture(store)
    other_email = "bertrand.nilsen@example.net"
    first, second = trace_id(), trace_id()
    agent = span_id()  # the trace's root, still running
    capture.on_run_end(make_run(trace=first, parent=agent,
                                inputs=f"from {PLANTED_EMAIL} to {other_email}"))
    capture.on_run_end(make_run(SpanKind.TOOL, trace=first, parent=agent,
                                inputs={"to": other_email}))
    capture.on_run_end(make_run(trace=second, inputs=f"cc {other_email}"))
    assert capture.flush(5)
    llm, tool = store.get_trace(first)
    [elsewhere] = store.get_trace(second)
    capture.close()
    assert llm.input == "from <EMAIL_1> to <EMAIL_2>"
    assert tool.input == {"to": "<EMAIL_2>"}
    assert elsewhere.input == "cc <EMAIL_1>"


@pytest.mark.lenient
def test_a_scrubber_failure_drops_the_record_instead_of_writing_it_raw(tmp_path: Path) -> None:
    class BrokenScrubber:
        def scrub(self, text: str) -> str:
            raise RuntimeError("pattern table failed to load")

        def scrub_value(self, obj: Any) -> Any:
            raise RuntimeError("pattern table failed to load")

    db = tmp_path / "payloads.db"
    log = tmp_path / "payloads.jsonl"
    store = SQLitePayloadStore(db)
    capture = make_capture(store, scrubber=BrokenScrubber(), event_log=PayloadEventLog(log))
    run = make_run(inputs=chat(f"I am {PLANTED_EMAIL}"))
    capture.on_run_end(run)
    assert capture.flush(5)
    assert store.get_trace(run.trace_id) == []
    on_disk = raw_bytes(tmp_path)
    capture.close()
    _assert_clean(on_disk)
    assert self_metrics()["dropped"] == {"payload_convert_failed": 1}
    assert self_metrics()["internal_errors"] == {"payloads.convert": 1}


@pytest.fixture
def pg_store() -> Iterator[PostgresPayloadStore]:
    schema = f"obs_test_{uuid.uuid4().hex[:12]}"
    store = PostgresPayloadStore(PG_DSN, schema=schema, connect_timeout_s=2)
    yield store
    store.close()
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.mark.postgres
def test_postgres_rows_hold_no_planted_secret(pg_store: PostgresPayloadStore) -> None:
    capture = make_capture(pg_store)
    for run in _runs_full_of_secrets():
        capture.on_run_end(run)
    assert capture.flush(5)
    capture.close()
    with psycopg.connect(PG_DSN) as conn:
        rows = conn.execute(
            f'SELECT t::text FROM "{pg_store.schema}".obs_payloads AS t').fetchall()
    text = "\n".join(r[0] for r in rows)
    assert len(rows) == 5
    assert "charged" in text
    _assert_clean(text.encode())
