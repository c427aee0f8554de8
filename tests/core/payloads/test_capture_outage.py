"""Store outages: records wait in a bounded buffer, writing resumes by itself, nothing is
duplicated, and whatever is lost is counted. Plus the writer's own TTL purge."""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from core.payloads.payload_factories import (
    PG_DSN,
    days_ago,
    limiter,
    make_capture,
    make_record,
    make_run,
    proxy_to_postgres,
)
from obs_core import self_metrics
from obs_core.payloads import (
    PayloadRecord,
    PayloadStoreUnavailable,
    PostgresPayloadStore,
    PurgeResult,
    SQLitePayloadStore,
)


def _wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


@pytest.fixture
def blocked_store(tmp_path: Path) -> Iterator[tuple[SQLitePayloadStore, Path]]:
    """A store whose folder cannot be created until the blocking file is removed."""
    blocker = tmp_path / "data"
    blocker.write_text("a file where the store's folder should be")
    store = SQLitePayloadStore(blocker / "payloads.db")
    yield store, blocker
    store.close()


def test_records_wait_during_an_outage_and_are_written_once_it_ends(
        blocked_store: tuple[SQLitePayloadStore, Path]) -> None:
    store, blocker = blocked_store
    capture = make_capture(store, ttl=None)
    runs = [make_run(inputs=f"question {i}") for i in range(5)]
    for run in runs:
        capture.on_run_end(run)
    assert capture.flush(0.3) is False
    available_during_outage = capture.store_available
    blocker.unlink()
    assert capture.flush(5)
    available_after = capture.store_available
    assert (available_during_outage, available_after) == (False, True)
    stored = store.search(limit=100)
    capture.close()
    assert sorted(r.span_id for r in stored) == sorted(r.span_id for r in runs)
    assert self_metrics()["dropped"] == {}


def test_records_beyond_the_outage_buffer_are_dropped_and_counted(
        blocked_store: tuple[SQLitePayloadStore, Path]) -> None:
    store, blocker = blocked_store
    capture = make_capture(store, ttl=None, max_buffered=3)
    for i in range(5):
        capture.on_run_end(make_run(inputs=f"question {i}"))
        # one at a time, so every loss happens at the outage buffer, not at the queue
        assert _wait_until(lambda: self_metrics()["gauges"]["payload_queue_depth"] == 0)
    assert _wait_until(lambda: self_metrics()["dropped"].get("payload_store_unavailable") == 2)
    blocker.unlink()
    assert capture.flush(5)
    assert len(store.search(limit=100)) == 3
    capture.close()
    assert self_metrics()["dropped"] == {"payload_store_unavailable": 2}


class LostAcknowledgement:
    """Writes through to a real store, then reports the first batch as failed, as when the
    connection drops after the commit but before the reply."""

    def __init__(self, inner: SQLitePayloadStore) -> None:
        self.inner = inner
        self.calls = 0

    def write(self, records: Sequence[PayloadRecord]) -> int:
        self.calls += 1
        written = self.inner.write(records)
        if self.calls == 1:
            raise PayloadStoreUnavailable("connection lost after commit")
        return written

    def get_trace(self, trace_id: str) -> list[PayloadRecord]:
        return self.inner.get_trace(trace_id)

    def search(self, **filters: object) -> list[PayloadRecord]:
        return self.inner.search(**filters)  # type: ignore[arg-type]

    def purge(self, *, older_than: datetime) -> PurgeResult:
        return self.inner.purge(older_than=older_than)

    def close(self) -> None:
        self.inner.close()


def test_a_batch_retried_after_a_lost_acknowledgement_is_not_duplicated(tmp_path: Path) -> None:
    inner = SQLitePayloadStore(tmp_path / "payloads.db")
    store = LostAcknowledgement(inner)
    capture = make_capture(store, ttl=None)
    runs = [make_run(inputs=f"q{i}") for i in range(4)]
    for run in runs:
        capture.on_run_end(run)
    assert capture.flush(5)
    assert store.calls >= 2
    assert len(inner.search(limit=100)) == 4
    capture.close()


class RejectsOne(LostAcknowledgement):
    """A store whose data check refuses one particular record, every time."""

    def __init__(self, inner: SQLitePayloadStore, poison: str) -> None:
        super().__init__(inner)
        self.poison = poison

    def write(self, records: Sequence[PayloadRecord]) -> int:
        if any(r.span_id == self.poison for r in records):
            raise ValueError("value out of range")
        return self.inner.write(records)


@pytest.mark.lenient
def test_a_record_the_store_rejects_is_dropped_alone_and_counted(tmp_path: Path) -> None:
    inner = SQLitePayloadStore(tmp_path / "payloads.db")
    runs = [make_run(inputs=f"q{i}") for i in range(3)]
    capture = make_capture(RejectsOne(inner, poison=runs[1].span_id), ttl=None)
    for run in runs:
        capture.on_run_end(run)
    assert capture.flush(5)
    stored = {r.span_id for r in inner.search(limit=100)}
    capture.close()
    assert stored == {runs[0].span_id, runs[2].span_id}
    assert self_metrics()["dropped"] == {"payload_rejected": 1}


def test_closing_during_an_outage_counts_what_was_never_written(
        blocked_store: tuple[SQLitePayloadStore, Path]) -> None:
    store, _ = blocked_store
    capture = make_capture(store, ttl=None)
    for i in range(3):
        capture.on_run_end(make_run(inputs=f"q{i}"))
    assert capture.close(timeout=0.3) is False
    assert self_metrics()["dropped"] == {"payload_shutdown": 3}


def test_the_writer_purges_expired_records_and_blobs_by_itself(tmp_path: Path) -> None:
    store = SQLitePayloadStore(tmp_path / "payloads.db")
    expired, fresh = make_record(timestamp=days_ago(31)), make_record(timestamp=days_ago(29))
    store.write([expired, fresh])
    blob_dir = tmp_path / "blobs"
    blob_dir.mkdir()
    old_blob, new_blob = blob_dir / "old.json", blob_dir / "new.json"
    for blob in (old_blob, new_blob):
        blob.write_text("{}")
    month_ago = time.time() - 31 * 86400
    os.utime(old_blob, (month_ago, month_ago))

    capture = make_capture(store, ttl=timedelta(days=30), limiter=limiter(1024, blob_dir=blob_dir))
    assert _wait_until(lambda: len(store.search(limit=10)) == 1)
    assert _wait_until(lambda: not old_blob.exists())
    capture.close()
    assert store.search(limit=10) == [fresh]
    assert new_blob.exists()


@pytest.fixture
def pg_schema() -> Iterator[str]:
    schema = f"obs_test_{uuid.uuid4().hex[:12]}"
    yield schema
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _pg_rows(schema: str) -> list[str]:
    with psycopg.connect(PG_DSN) as conn:
        return [r[0] for r in conn.execute(f'SELECT span_id FROM "{schema}".obs_payloads')]


@pytest.mark.postgres
def test_postgres_writes_resume_after_the_server_comes_back_without_duplicates(
        pg_schema: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with proxy_to_postgres() as proxy:
        store = PostgresPayloadStore(proxy.dsn(), schema=pg_schema, connect_timeout_s=0.3)
        capture = make_capture(store, ttl=None)
        before = [make_run(inputs=f"before {i}") for i in range(3)]
        for run in before:
            capture.on_run_end(run)
        assert capture.flush(5)

        proxy.stop()  # the server goes away, and with it every pooled connection
        during = [make_run(inputs=f"during {i}") for i in range(3)]
        for run in during:
            capture.on_run_end(run)
        assert capture.flush(0.5) is False
        assert not capture.store_available

        proxy.start()
        assert capture.flush(5)
        capture.close()
    spans = _pg_rows(pg_schema)
    assert sorted(spans) == sorted(r.span_id for r in before + during)
    assert self_metrics()["dropped"] == {}
    assert "s3cr3t-pw" not in caplog.text


@pytest.mark.postgres
def test_postgres_down_from_the_start_buffers_then_catches_up(pg_schema: str) -> None:
    with proxy_to_postgres() as proxy:
        proxy.stop()
        store = PostgresPayloadStore(proxy.dsn(), schema=pg_schema, connect_timeout_s=0.3)
        capture = make_capture(store, ttl=timedelta(days=30))
        runs = [make_run(inputs=f"q{i}") for i in range(4)]
        for run in runs:
            capture.on_run_end(run)
        assert capture.flush(0.4) is False
        proxy.start()
        assert capture.flush(5)
        capture.close()
    assert sorted(_pg_rows(pg_schema)) == sorted(r.span_id for r in runs)
