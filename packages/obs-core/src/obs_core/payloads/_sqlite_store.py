"""The embedded payload store: one SQLite file in WAL mode, private to its owner.

The connection opens lazily and is dropped after any I/O failure, so a store whose directory
or disk was unavailable starts working again by itself once the cause goes away.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from obs_core._paths import ensure_private_dir
from obs_core._sqlite_batch import insert_rows
from obs_core.payloads import _rows
from obs_core.payloads.record import PayloadRecord, to_unix_ns
from obs_core.payloads.store import PayloadStoreUnavailable, PurgeResult

logger = logging.getLogger("obs.payloads")

_PURGE_BATCH = 5_000
_SCHEMA = """
CREATE TABLE IF NOT EXISTS payloads (
    trace_id TEXT NOT NULL,
    span_id TEXT NOT NULL,
    parent_span_id TEXT,
    start_time INTEGER NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    model TEXT,
    status TEXT NOT NULL,
    session_id TEXT,
    user_cohort TEXT,
    pipeline_version TEXT,
    prompt_hash TEXT,
    input_tokens INTEGER,
    output_tokens INTEGER,
    record TEXT NOT NULL,
    PRIMARY KEY (trace_id, span_id)
);
-- The primary key already serves lookups by trace id.
CREATE INDEX IF NOT EXISTS payloads_time ON payloads (start_time);
CREATE INDEX IF NOT EXISTS payloads_session ON payloads (session_id, start_time)
    WHERE session_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS payloads_pipeline ON payloads (pipeline_version, start_time)
    WHERE pipeline_version IS NOT NULL;
CREATE INDEX IF NOT EXISTS payloads_prompt_hash ON payloads (prompt_hash)
    WHERE prompt_hash IS NOT NULL;
"""


class SQLitePayloadStore:
    """Payload records in a local SQLite file (``0600``, parent directory ``0700`` if created).

    Deleted rows are overwritten (``secure_delete``) and the WAL is checkpointed after a purge,
    so expired prompts do not linger in free pages of the file.
    """

    def __init__(self, path: Path | str, *, busy_timeout_s: float = 5.0) -> None:
        self.path = Path(path).expanduser()
        self._busy_timeout_ms = int(busy_timeout_s * 1000)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def __repr__(self) -> str:
        return f"SQLitePayloadStore({str(self.path)!r})"

    def write(self, records: Sequence[PayloadRecord]) -> int:
        if not records:
            return 0
        rows = [_rows.row(r, to_unix_ns(r.timestamp)) for r in records]
        head = f"INSERT OR IGNORE INTO payloads ({', '.join(_rows.COLUMNS)})"
        with self._lock:
            conn = self._connection()
            try:
                before = conn.total_changes
                conn.execute("BEGIN IMMEDIATE")
                insert_rows(conn, head, rows)
                conn.execute("COMMIT")
                return conn.total_changes - before
            except sqlite3.OperationalError as exc:
                self._reset()
                raise PayloadStoreUnavailable(f"cannot write {self.path}: {exc}") from exc
            except BaseException:
                _rollback(conn)
                raise

    def get_trace(self, trace_id: str) -> list[PayloadRecord]:
        return self._select(
            "SELECT record FROM payloads WHERE trace_id = ? ORDER BY start_time, span_id",
            (trace_id,),
        )

    def search(
        self,
        *,
        session_id: str | None = None,
        pipeline_version: str | None = None,
        prompt_hash: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
    ) -> list[PayloadRecord]:
        where: list[str] = []
        params: list[Any] = []
        for column, op, value in _rows.filters(
            session_id=session_id, pipeline_version=pipeline_version, prompt_hash=prompt_hash,
            since=since, until=until,
        ):
            where.append(f"{column} {op} ?")
            params.append(to_unix_ns(value) if isinstance(value, datetime) else value)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        params.append(max(0, limit))
        return self._select(
            f"SELECT record FROM payloads {clause} ORDER BY start_time DESC LIMIT ?", params
        )

    def purge(self, *, older_than: datetime) -> PurgeResult:
        """Delete in batches of a few thousand rows so other writers and readers never wait
        long for the lock; the time index makes each batch a range scan."""
        cutoff = to_unix_ns(older_than)
        deleted = 0
        with self._lock:
            conn = self._connection()
            try:
                while True:
                    conn.execute("BEGIN IMMEDIATE")
                    cur = conn.execute(
                        "DELETE FROM payloads WHERE rowid IN (SELECT rowid FROM payloads "
                        "WHERE start_time < ? LIMIT ?)", (cutoff, _PURGE_BATCH),
                    )
                    conn.execute("COMMIT")
                    deleted += cur.rowcount
                    if cur.rowcount < _PURGE_BATCH:
                        break
                if deleted:
                    conn.execute("PRAGMA incremental_vacuum")
                    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.OperationalError as exc:
                self._reset()
                raise PayloadStoreUnavailable(f"cannot purge {self.path}: {exc}") from exc
        return PurgeResult(deleted_rows=deleted)

    def close(self) -> None:
        with self._lock:
            self._reset()

    def _select(self, sql: str, params: Sequence[Any]) -> list[PayloadRecord]:
        with self._lock:
            conn = self._connection()
            try:
                rows = conn.execute(sql, params).fetchall()
            except sqlite3.OperationalError as exc:
                self._reset()
                raise PayloadStoreUnavailable(f"cannot read {self.path}: {exc}") from exc
        return [PayloadRecord.model_validate_json(r[0]) for r in rows]

    def _connection(self) -> sqlite3.Connection:
        """The open connection, opening (and creating) the database first if needed."""
        if self._conn is not None:
            return self._conn
        try:
            conn = _open(self.path, self._busy_timeout_ms)
        except (sqlite3.Error, OSError) as exc:
            raise PayloadStoreUnavailable(f"cannot open {self.path}: {exc}") from exc
        self._conn = conn
        return conn

    def _reset(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            _rollback(conn)
            try:
                conn.close()
            except sqlite3.Error:
                pass


def _open(path: Path, busy_timeout_ms: int) -> sqlite3.Connection:
    if not path.parent.exists():
        ensure_private_dir(path.parent)
    # Create the file ourselves so it is 0600 from the first byte; SQLite gives the -wal and
    # -shm files the same mode as the database.
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
        conn.execute("PRAGMA auto_vacuum = INCREMENTAL")  # effective only on a new file
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA secure_delete = ON")
        # A writer appends near the end of its indexes: a small page cache serves it, and
        # SQLite's default (2 MB) would be memory a long-lived process holds for nothing.
        conn.execute("PRAGMA cache_size = -512")
        conn.executescript(_SCHEMA)
    except BaseException:
        conn.close()
        raise
    return conn


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass
