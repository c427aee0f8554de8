"""The local stores keep up while the application thread is busy in Python.

A store writer that gives up the GIL once per row has to win it back from a busy application
thread for every row, each time waiting out the interpreter's switch interval: its queue then
grows to its bound and the process's memory with it. Here the switch interval is raised to
50 ms so that such a writer would need more than ten seconds for a batch; a writer that gives
the GIL up once per statement needs a few switch intervals.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.payloads.payload_factories import make_record
from core.store.store_scenarios import span_record
from obs_core.payloads import SQLitePayloadStore
from obs_core.store import SQLiteTraceStore

pytestmark = pytest.mark.slow

BATCH = 256
BOUND_S = 3.0
"""Per batch; a writer stepping row by row would need BATCH × 50 ms = 12.8 s."""


@contextlib.contextmanager
def _busy_application() -> Iterator[None]:
    """Another thread spinning in Python, with a 50 ms switch interval, while the block runs."""
    interval = sys.getswitchinterval()
    stop = threading.Event()

    def spin() -> None:
        count = 0
        while not stop.is_set():
            count += 1

    sys.setswitchinterval(0.05)
    thread = threading.Thread(target=spin, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        sys.setswitchinterval(interval)


def test_a_payload_batch_is_written_promptly_next_to_a_busy_thread(tmp_path: Path) -> None:
    store = SQLitePayloadStore(tmp_path / "payloads.db")
    trace = uuid.uuid4().hex
    records = [make_record(trace=trace, span=f"{i + 1:016x}") for i in range(BATCH)]
    store.write([make_record()])  # the file and its schema exist, as in a running writer
    try:
        with _busy_application():
            started = time.perf_counter()
            store.write(records)
            elapsed = time.perf_counter() - started
        assert elapsed < BOUND_S
        assert len(store.get_trace(trace)) == BATCH
    finally:
        store.close()


def test_a_span_batch_is_written_promptly_next_to_a_busy_thread(tmp_path: Path) -> None:
    store = SQLiteTraceStore(tmp_path / "traces.db")
    trace = uuid.uuid4().hex
    records = [span_record(trace, f"{i + 1:016x}", start_ms=i) for i in range(BATCH)]
    try:
        with _busy_application():
            started = time.perf_counter()
            store.write(records)
            elapsed = time.perf_counter() - started
        assert elapsed < BOUND_S
        assert len(store.get_trace(trace)) == BATCH
    finally:
        store.close()
