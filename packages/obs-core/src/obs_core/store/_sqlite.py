"""Opening the local SQLite file: owner-only permissions, WAL, and schema migrations.

Shared by every store that lives in the trace database file, so they agree on pragmas and on
the single migration list in :mod:`obs_core.store._schema`.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

from obs_core._paths import ensure_private_dir
from obs_core.store._schema import MIGRATIONS, SCHEMA_VERSION

logger = logging.getLogger("obs.store")

BUSY_TIMEOUT_MS = 5_000
"""How long a writer waits for another process's transaction before giving up."""


class SchemaTooOldError(sqlite3.DatabaseError):
    """A read-only store file has not been migrated to the schema this version needs."""


def create_private_file(path: Path) -> None:
    """Create the database file 0600 (directory 0700) before SQLite does, if it is missing.

    SQLite gives its ``-wal`` and ``-shm`` files the database file's mode, so this covers them
    too. An existing file keeps whatever mode its owner chose.
    """
    ensure_private_dir(path.parent)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, 0o600)  # the umask may have removed bits we need; never adds any
    finally:
        os.close(fd)


def open_connection(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    """A connection in autocommit mode (callers ``BEGIN`` explicitly), schema up to date."""
    if read_only:
        conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None,
            check_same_thread=False,
        )
    else:
        create_private_file(path)
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS:d}")
        if read_only:
            _require_current_schema(conn, path)
        else:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            migrate(conn)
        conn.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        conn.close()
        raise
    return conn


def upgrade_if_needed(path: Path) -> bool:
    """Bring an older store file up to this version's schema before a read-only open, when
    the caller may write it: a viewer should not refuse a store only because no writer has
    opened it since an upgrade. Nothing is written to a file already current, and a file the
    caller cannot write is left alone (the read-only open then says what to do). Whether the
    file was migrated."""
    try:
        open_connection(path, read_only=True).close()
        return False  # already current
    except SchemaTooOldError:
        pass
    except (sqlite3.Error, OSError):
        return False  # unreadable: the read-only open that follows reports it
    if not os.access(path, os.W_OK):
        return False
    try:
        open_connection(path).close()
    except (sqlite3.Error, OSError) as exc:
        logger.debug("could not migrate %s in place: %s", path, exc)
        return False
    return True


def migrate(conn: sqlite3.Connection) -> None:
    """Apply the migrations this file lacks, atomically; safe when processes race to do it."""
    if _user_version(conn) >= SCHEMA_VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = _user_version(conn)
        for version in range(current, SCHEMA_VERSION):
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
            logger.debug("trace store schema migrated to version %d", version + 1)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION:d}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _user_version(conn: sqlite3.Connection) -> int:
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def _require_current_schema(conn: sqlite3.Connection, path: Path) -> None:
    version = _user_version(conn)
    if version < SCHEMA_VERSION:
        raise SchemaTooOldError(
            f"{path} has schema version {version}, this obs needs {SCHEMA_VERSION}; "
            "open it once writable to migrate it"
        )
