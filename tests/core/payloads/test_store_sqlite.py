"""The embedded payload store: a private WAL-mode SQLite file, idempotent and purgeable."""

from __future__ import annotations

import sqlite3
import stat
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from core.payloads.payload_factories import days_ago, make_record, trace_id
from obs_core.payloads import PayloadStoreUnavailable, SQLitePayloadStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLitePayloadStore]:
    s = SQLitePayloadStore(tmp_path / "private" / "payloads.db")
    yield s
    s.close()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_database_and_its_wal_files_are_readable_by_the_owner_only(
        store: SQLitePayloadStore) -> None:
    store.write([make_record()])
    db = store.path
    assert _mode(db) == 0o600
    assert _mode(db.with_name(db.name + "-wal")) == 0o600
    assert _mode(db.with_name(db.name + "-shm")) == 0o600


def test_a_created_parent_directory_is_private(store: SQLitePayloadStore) -> None:
    store.write([make_record()])
    assert _mode(store.path.parent) == 0o700


def test_the_database_uses_write_ahead_logging(store: SQLitePayloadStore) -> None:
    store.write([make_record()])
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_records_of_a_trace_come_back_in_start_order(store: SQLitePayloadStore) -> None:
    tid = trace_id()
    later = make_record(trace=tid, timestamp=days_ago(0.1), name="second")
    earlier = make_record(trace=tid, timestamp=days_ago(0.2), name="first")
    other = make_record(name="other trace")
    store.write([later, other, earlier])
    assert [r.name for r in store.get_trace(tid)] == ["first", "second"]
    assert store.get_trace(tid)[0] == earlier


def test_writing_a_record_twice_stores_it_once(store: SQLitePayloadStore) -> None:
    record = make_record()
    assert store.write([record]) == 1
    assert store.write([record, make_record(trace=record.trace_id)]) == 1
    assert len(store.get_trace(record.trace_id)) == 2


def test_search_filters_by_session_pipeline_version_and_time(store: SQLitePayloadStore) -> None:
    old = make_record(session_id="a", pipeline_version="v1", timestamp=days_ago(3))
    new_a = make_record(session_id="a", pipeline_version="v2", timestamp=days_ago(1))
    new_b = make_record(session_id="b", pipeline_version="v2", timestamp=days_ago(1))
    store.write([old, new_a, new_b])
    assert {r.span_id for r in store.search(session_id="a")} == {old.span_id, new_a.span_id}
    assert {r.span_id for r in store.search(pipeline_version="v2")} == {new_a.span_id, new_b.span_id}
    assert [r.span_id for r in store.search(session_id="a", since=days_ago(2))] == [new_a.span_id]
    assert [r.span_id for r in store.search(until=days_ago(2))] == [old.span_id]


def test_lookups_by_session_pipeline_and_time_use_an_index(store: SQLitePayloadStore) -> None:
    store.write([make_record()])
    queries = {
        "trace": "SELECT record FROM payloads WHERE trace_id = 'x'",
        "session": "SELECT record FROM payloads WHERE session_id = 'x' ORDER BY start_time",
        "pipeline": "SELECT record FROM payloads WHERE pipeline_version = 'x'",
        "time": "SELECT record FROM payloads WHERE start_time < 5",
    }
    with sqlite3.connect(store.path) as conn:
        for what, sql in queries.items():
            plan = " ".join(str(row[-1]) for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}"))
            assert "USING INDEX" in plan or "USING PRIMARY KEY" in plan, (what, plan)


def test_purge_deletes_only_records_that_started_before_the_cutoff(
        store: SQLitePayloadStore) -> None:
    expired = [make_record(timestamp=days_ago(31)) for _ in range(3)]
    kept = make_record(timestamp=days_ago(29))
    store.write([*expired, kept])
    result = store.purge(older_than=days_ago(30))
    assert result.deleted_rows == 3
    assert store.search(limit=10) == [kept]


def test_purged_text_does_not_linger_in_the_file(store: SQLitePayloadStore) -> None:
    secret_text = "expired-conversation-" + trace_id()
    store.write([make_record(timestamp=days_ago(40), output=secret_text)])
    store.purge(older_than=days_ago(30))
    store.close()
    on_disk = b"".join(p.read_bytes() for p in store.path.parent.iterdir() if p.is_file())
    assert secret_text.encode() not in on_disk


def test_an_unreachable_location_raises_unavailable_and_recovers_by_itself(
        tmp_path: Path) -> None:
    blocker = tmp_path / "not-yet-a-directory"
    blocker.write_text("a file where the store's folder should be")
    store = SQLitePayloadStore(blocker / "payloads.db")
    record = make_record()
    with pytest.raises(PayloadStoreUnavailable):
        store.write([record])
    blocker.unlink()
    assert store.write([record]) == 1
    assert store.get_trace(record.trace_id) == [record]
    store.close()


def test_timestamps_round_trip_with_microsecond_precision(store: SQLitePayloadStore) -> None:
    moment = days_ago(1) + timedelta(microseconds=7)
    record = make_record(timestamp=moment)
    store.write([record])
    assert store.get_trace(record.trace_id)[0].timestamp == moment
