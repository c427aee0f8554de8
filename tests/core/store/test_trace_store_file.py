"""The SQLite file itself: privacy, durability settings, schema versions, sharing, purging."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from core.store.store_scenarios import TraceBuilder, at, span_record
from obs_core.store import SQLiteTraceStore, StoreClosedError
from obs_core.store._schema import SCHEMA_VERSION, TRACE_SCOPED_TABLES


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextmanager
def raw(path: Path) -> Iterator[sqlite3.Connection]:
    """A plain connection, to look at the file the way any SQLite tool would."""
    with closing(sqlite3.connect(path)) as conn:
        yield conn


def test_store_file_and_folder_are_private_to_their_owner(
    store: SQLiteTraceStore, store_path: Path, traces: TraceBuilder
) -> None:
    traces.agent_run()

    assert mode(store_path.parent) == 0o700
    assert mode(store_path) == 0o600
    for suffix in ("-wal", "-shm"):
        sidecar = store_path.with_name(store_path.name + suffix)
        assert sidecar.exists()
        assert mode(sidecar) == 0o600


def test_store_file_is_private_even_under_a_permissive_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        path = tmp_path / "open" / "traces.db"
        SQLiteTraceStore(path).close()
    finally:
        os.umask(previous)

    assert mode(path) == 0o600


def test_an_existing_file_keeps_the_mode_its_owner_chose(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    path.touch(mode=0o640)
    path.chmod(0o640)

    SQLiteTraceStore(path).close()

    assert mode(path) == 0o640


def test_store_uses_write_ahead_logging(store: SQLiteTraceStore, store_path: Path) -> None:
    with raw(store_path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_schema_version_is_recorded_and_reopening_keeps_the_data(
    store: SQLiteTraceStore, store_path: Path, traces: TraceBuilder
) -> None:
    trace_id = traces.agent_run()
    store.close()

    with SQLiteTraceStore(store_path) as reopened:
        assert reopened.count_traces() == 1
        assert len(reopened.get_trace(trace_id)) == 8
    with raw(store_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_every_trace_scoped_table_has_a_trace_id_column(
    store: SQLiteTraceStore, store_path: Path
) -> None:
    with raw(store_path) as conn:
        for table in TRACE_SCOPED_TABLES:
            columns = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
            assert "trace_id" in columns, table


def test_newest_first_listing_walks_an_index_instead_of_sorting(
    store: SQLiteTraceStore, store_path: Path
) -> None:
    with raw(store_path) as conn:
        plan = " | ".join(row[3] for row in conn.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM traces "
            "ORDER BY start_time_ns DESC, trace_id DESC LIMIT 50"
        ))

    assert "traces_by_start" in plan
    assert "TEMP B-TREE" not in plan


def test_read_only_store_reads_but_refuses_writes(
    store: SQLiteTraceStore, store_path: Path, traces: TraceBuilder
) -> None:
    trace_id = traces.agent_run()

    with SQLiteTraceStore(store_path, read_only=True) as reader:
        assert reader.get_summary(trace_id) is not None
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader.write([span_record("new", "n1")])


def test_a_closed_store_refuses_further_use(store: SQLiteTraceStore) -> None:
    store.close()

    with pytest.raises(StoreClosedError):
        store.list_traces()
    with pytest.raises(StoreClosedError):
        store.write([span_record("t", "s")])


def test_concurrent_writers_lose_nothing(store: SQLiteTraceStore) -> None:
    def write_traces(worker: int) -> None:
        for n in range(20):
            store.write([span_record(f"w{worker}-{n}", f"s{i}", start_ms=i) for i in range(5)])

    threads = [threading.Thread(target=write_traces, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert store.count_traces() == 80
    assert all(s.span_count == 5 for s in store.list_traces())


def test_two_store_objects_on_one_file_see_each_others_writes(
    store: SQLiteTraceStore, store_path: Path
) -> None:
    with SQLiteTraceStore(store_path) as other:
        other.write([span_record("from-other", "s1")])

        assert store.get_summary("from-other") is not None


def test_purge_removes_traces_that_ended_before_the_cutoff(store: SQLiteTraceStore) -> None:
    store.write([span_record("old", "a", start_ms=0, end_ms=100),
                 span_record("old", "b", start_ms=10, end_ms=50, parent="a"),
                 span_record("new", "c", start_ms=500, end_ms=600)])

    removed = store.purge(older_than_ns=at(200))

    assert removed == 1
    assert [s.trace_id for s in store.list_traces()] == ["new"]
    assert store.get_trace("old") == []


def test_purge_keeps_a_trace_that_is_still_running_past_the_cutoff(
    store: SQLiteTraceStore,
) -> None:
    store.write([span_record("long", "a", start_ms=0, end_ms=1000)])

    assert store.purge(older_than_ns=at(500)) == 0
    assert store.count_traces() == 1


def test_purge_clears_every_trace_scoped_table(
    store: SQLiteTraceStore, store_path: Path, traces: TraceBuilder
) -> None:
    traces.agent_run()

    store.purge(older_than_ns=at(10_000))

    with raw(store_path) as conn:
        for table in (*TRACE_SCOPED_TABLES, "traces"):
            assert conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0, table


def test_the_overview_reads_one_covering_index(store: SQLiteTraceStore, store_path: Path) -> None:
    from obs_core.ui._overview import _PER_DAY_SQL

    with raw(store_path) as conn:
        plan = " | ".join(row[3] for row in conn.execute(
            "EXPLAIN QUERY PLAN " + _PER_DAY_SQL, (86_400 * 10**9, 0, 2**62)))

    assert "COVERING INDEX traces_overview" in plan


def test_a_store_written_by_an_older_schema_is_migrated_when_opened_writable(
    tmp_path: Path,
) -> None:
    from obs_core.store._schema import MIGRATIONS

    path = tmp_path / "old.db"
    with closing(sqlite3.connect(path)) as conn:
        for migration in MIGRATIONS[:-1]:
            for statement in migration:
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
        conn.commit()

    SQLiteTraceStore(path).close()

    with raw(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        indexes = {row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "traces_overview" in indexes
