"""The payload store for deployments: PostgreSQL through psycopg 3 and a connection pool.

Retention design. The table is range-partitioned by ``start_time`` into one partition per UTC
day, created on demand by the writer. A TTL purge drops every partition that lies entirely
before the cutoff — ``DROP TABLE`` of a partition costs the same for ten rows or ten million,
writes no per-row WAL and leaves no dead tuples for autovacuum — and then deletes the expired
part of the single boundary day, a range scan over at most one day of rows. An indexed
batched ``DELETE`` over the whole table would instead touch every expired row, bloat the table
and indexes, and compete with inserts for I/O exactly when the table is largest. Daily rather
than monthly partitions keep expired data at most a day past its TTL and a 30-day retention at
about thirty partitions, which partition pruning handles without effort.

Idempotency. The primary key is ``(trace_id, span_id, start_time)`` (a partitioned table's keys
must include the partition column); ``start_time`` comes from the record itself, so a retried
record lands in the same partition and ``ON CONFLICT DO NOTHING`` skips it.

A batch is written as one statement, each column sent as one array and unpacked with
``unnest``: one round trip and one plan, keeping ``ON CONFLICT`` without the staging table a
``COPY`` would need.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta, timezone
from typing import TYPE_CHECKING, Any, Final

from obs_core.payloads import _rows
from obs_core.payloads._dsn import redact_dsn, redact_message
from obs_core.payloads.record import PayloadRecord
from obs_core.payloads.store import PayloadStoreUnavailable, PurgeResult

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

logger = logging.getLogger("obs.payloads")

_ARRAY_TYPES: Final = {"start_time": "timestamptz", "input_tokens": "bigint",
                       "output_tokens": "bigint"}
"""Element types of the per-column arrays a batch is sent as (``text`` for the rest; the JSON
record travels as text and is cast per row)."""

_INSTALL_HINT = (
    "the PostgreSQL payload store needs psycopg 3 and psycopg_pool: "
    "pip install 'obs-core[postgres]'"
)


def _import_psycopg() -> tuple[Any, Any]:
    try:
        import psycopg
        import psycopg_pool
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc
    return psycopg, psycopg_pool


class PostgresPayloadStore:
    """Payload records in a daily-partitioned PostgreSQL table.

    ``dsn`` is a libpq connection string or URL; its password never appears in ``repr``, logs
    or raised messages. Nothing connects until the first call, so constructing the store with
    the server down is fine: the writer retries until it comes back. ``pooled=False`` opens a
    plain connection per call instead, which fails at once when the server refuses (the pool
    waits ``connect_timeout_s`` for a connection): right for one-shot command-line use.
    """

    def __init__(
        self,
        dsn: str,
        *,
        schema: str = "public",
        table: str = "obs_payloads",
        connect_timeout_s: float = 5.0,
        max_connections: int = 4,
        pooled: bool = True,
    ) -> None:
        self._psycopg, self._psycopg_pool = _import_psycopg()
        self._dsn = dsn
        self.schema = _rows.check_identifier(schema, "schema")
        self.table = _rows.check_identifier(table, "table")
        self._timeout = connect_timeout_s
        self._max_connections = max_connections
        self._pooled = pooled
        self._pool: ConnectionPool[Any] | None = None
        self._pool_lock = threading.Lock()
        self._schema_ready = False
        self._partitions: set[date] = set()

    def __repr__(self) -> str:
        return f"PostgresPayloadStore({redact_dsn(self._dsn)!r}, table={self._qualified!r})"

    @property
    def _qualified(self) -> str:
        return f"{self.schema}.{self.table}"

    def write(self, records: Sequence[PayloadRecord]) -> int:
        if not records:
            return 0
        # One statement per batch, each column sent as one array: a row-by-row executemany
        # costs a server round of parsing and planning per record and misses the throughput
        # the store must sustain (10,000 records/s), while the SQL text stays constant.
        columns = [list(values) for values in zip(*(_rows.row(r, r.timestamp) for r in records),
                                                   strict=True)]
        days = {_utc_day(r.timestamp) for r in records}
        sql = self._sql(
            "INSERT INTO {t} ({cols}) SELECT {picks} FROM unnest({arrays}) AS u({cols}) "
            "ON CONFLICT (trace_id, span_id, start_time) DO NOTHING",
            cols=", ".join(_rows.COLUMNS),
            picks=", ".join(f"{c}::jsonb" if c == "record" else c for c in _rows.COLUMNS),
            arrays=", ".join(f"%b::{_ARRAY_TYPES.get(c, 'text')}[]" for c in _rows.COLUMNS),
        )
        errors = self._psycopg.errors
        for attempt in (1, 2):
            with self._connection("write") as conn:
                try:
                    self._ensure_partitions(conn, days)
                    with conn.transaction(), conn.cursor() as cur:
                        cur.execute(sql, columns)
                        return max(cur.rowcount, 0)
                except errors.CheckViolation:
                    # "no partition found for row": another process purged a day we had
                    # cached. Forget the cache and create it again, once.
                    self._partitions.clear()
                    if attempt == 2:
                        raise
        raise AssertionError("unreachable")  # pragma: no cover

    def get_trace(self, trace_id: str) -> list[PayloadRecord]:
        return self._select(
            self._sql("SELECT record::text FROM {t} WHERE trace_id = %s "
                      "ORDER BY start_time, span_id"),
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
        given = _rows.filters(session_id=session_id, pipeline_version=pipeline_version,
                              prompt_hash=prompt_hash, since=since, until=until)
        clause = " AND ".join(f"{column} {op} %s" for column, op, _ in given)
        params: list[Any] = [value for _, _, value in given]
        params.append(max(0, limit))
        sql = self._sql("SELECT record::text FROM {t} "
                        + (f"WHERE {clause} " if clause else "")
                        + "ORDER BY start_time DESC LIMIT %s")
        return self._select(sql, params)

    def purge(self, *, older_than: datetime) -> PurgeResult:
        cutoff = older_than if older_than.tzinfo else older_than.replace(tzinfo=timezone.utc)
        dropped: list[str] = []
        with self._connection("purge") as conn:
            for name, day in self._list_partitions(conn):
                if _day_start(day) + timedelta(days=1) <= cutoff:
                    with conn.transaction():
                        conn.execute(self._sql("DROP TABLE IF EXISTS {s}.{p}", p=name))
                    self._partitions.discard(day)
                    dropped.append(name)
            with conn.transaction(), conn.cursor() as cur:
                cur.execute(self._sql("DELETE FROM {t} WHERE start_time < %s"), (cutoff,))
                deleted = max(cur.rowcount, 0)
        return PurgeResult(deleted_rows=deleted, dropped_partitions=dropped)

    def drop_all(self) -> None:
        """Remove the table and every partition (tests and uninstall)."""
        with self._connection("drop") as conn, conn.transaction():
            conn.execute(self._sql("DROP TABLE IF EXISTS {t} CASCADE"))
        self._schema_ready = False
        self._partitions.clear()

    def close(self) -> None:
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close(timeout=self._timeout)

    # -- internals -------------------------------------------------------------------------

    def _sql(self, template: str, **parts: str) -> str:
        """Identifiers were validated by :func:`_rows.check_identifier`; quote them anyway."""
        return template.format(t=f'"{self.schema}"."{self.table}"', s=f'"{self.schema}"',
                               **{k: (f'"{v}"' if k == "p" else v) for k, v in parts.items()})

    @contextmanager
    def _connection(self, action: str) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection with the schema in place; connection-level failures become
        :class:`PayloadStoreUnavailable` with the password masked."""
        psycopg = self._psycopg
        try:
            with self._connect() as conn:
                if not self._schema_ready:
                    self._create_schema(conn)
                yield conn
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            message = redact_message(f"cannot {action} {self!r}: {exc}", self._dsn)
            raise PayloadStoreUnavailable(message) from None
        except psycopg.Error as exc:
            raise type(exc)(redact_message(str(exc), self._dsn)) from None

    def _connect(self) -> contextlib.AbstractContextManager[psycopg.Connection[Any]]:
        if self._pooled:
            return self._get_pool().connection(timeout=self._timeout)
        conn: psycopg.Connection[Any] = self._psycopg.connect(self._dsn, **self._connect_kwargs())
        return conn

    def _get_pool(self) -> ConnectionPool[Any]:
        with self._pool_lock:
            if self._pool is None:
                pool_cls = self._psycopg_pool.ConnectionPool
                pool = pool_cls(
                    self._dsn,
                    min_size=0,
                    max_size=self._max_connections,
                    open=False,
                    timeout=self._timeout,
                    check=pool_cls.check_connection,
                    kwargs=self._connect_kwargs(),
                    name="obs-payloads",
                )
                pool.open(wait=False)
                self._pool = pool
            return self._pool

    def _connect_kwargs(self) -> dict[str, Any]:
        given = self._psycopg.conninfo.conninfo_to_dict(self._dsn)
        extra: dict[str, Any] = {}
        if "connect_timeout" not in given:
            extra["connect_timeout"] = max(1, int(self._timeout))
        if "application_name" not in given:
            extra["application_name"] = "obs-payloads"
        if "options" not in given:
            # A stuck statement must not stall the writer forever; it retries instead.
            extra["options"] = "-c statement_timeout=60000"
        return extra

    def _create_schema(self, conn: psycopg.Connection[Any]) -> None:
        t = self.table
        statements = [
            "CREATE TABLE IF NOT EXISTS {t} ("
            " trace_id text NOT NULL, span_id text NOT NULL, parent_span_id text,"
            " start_time timestamptz NOT NULL, kind text NOT NULL, name text NOT NULL,"
            " model text, status text NOT NULL, session_id text, user_cohort text,"
            " pipeline_version text, prompt_hash text, input_tokens bigint,"
            " output_tokens bigint, record jsonb NOT NULL,"
            " PRIMARY KEY (trace_id, span_id, start_time)"
            ") PARTITION BY RANGE (start_time)",
            f"CREATE INDEX IF NOT EXISTS {t}_time ON {{t}} (start_time)",
            f"CREATE INDEX IF NOT EXISTS {t}_session ON {{t}} (session_id, start_time)"
            " WHERE session_id IS NOT NULL",
            f"CREATE INDEX IF NOT EXISTS {t}_pipeline ON {{t}} (pipeline_version, start_time)"
            " WHERE pipeline_version IS NOT NULL",
            f"CREATE INDEX IF NOT EXISTS {t}_prompt_hash ON {{t}} (prompt_hash)"
            " WHERE prompt_hash IS NOT NULL",
        ]
        with conn.transaction():
            exists = conn.execute(
                "SELECT 1 FROM pg_namespace WHERE nspname = %s", (self.schema,)
            ).fetchone()
            if exists is None:
                conn.execute(self._sql("CREATE SCHEMA IF NOT EXISTS {s}"))
        self._run_ddl(conn, [self._sql(s) for s in statements])
        self._schema_ready = True

    def _ensure_partitions(self, conn: psycopg.Connection[Any], days: set[date]) -> None:
        missing = sorted(days - self._partitions)
        for day in missing:
            start = _day_start(day)
            self._run_ddl(conn, [self._sql(
                "CREATE TABLE IF NOT EXISTS {s}.{p} PARTITION OF {t} FOR VALUES FROM ({lo}) TO ({hi})",
                p=_partition_name(self.table, day),
                lo=_literal(start),
                hi=_literal(start + timedelta(days=1)),
            )])
            self._partitions.add(day)

    def _run_ddl(self, conn: psycopg.Connection[Any], statements: list[str]) -> None:
        """``IF NOT EXISTS`` still races between processes creating the same object at once;
        the loser sees a duplicate error and simply finds the object there on retry."""
        errors = self._psycopg.errors
        for statement in statements:
            for attempt in (1, 2):
                try:
                    with conn.transaction():
                        conn.execute(statement)
                    break
                except (errors.DuplicateTable, errors.DuplicateObject, errors.UniqueViolation):
                    if attempt == 2:
                        raise

    def _list_partitions(self, conn: psycopg.Connection[Any]) -> list[tuple[str, date]]:
        rows = conn.execute(
            "SELECT c.relname FROM pg_inherits i"
            " JOIN pg_class c ON c.oid = i.inhrelid"
            " JOIN pg_class p ON p.oid = i.inhparent"
            " JOIN pg_namespace n ON n.oid = p.relnamespace"
            " WHERE n.nspname = %s AND p.relname = %s",
            (self.schema, self.table),
        ).fetchall()
        conn.commit()
        found: list[tuple[str, date]] = []
        prefix = f"{self.table}_p"
        for (name,) in rows:
            if name.startswith(prefix):
                try:
                    found.append((name, datetime.strptime(name[len(prefix):], "%Y%m%d").date()))
                except ValueError:
                    continue  # someone else's partition: not ours to drop
        return sorted(found, key=lambda item: item[1])

    def _select(self, sql: str, params: Sequence[Any]) -> list[PayloadRecord]:
        with self._connection("read") as conn:
            rows = conn.execute(sql, params).fetchall()
            conn.commit()
        return [PayloadRecord.model_validate_json(r[0]) for r in rows]


def _utc_day(moment: datetime) -> date:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).date()


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=timezone.utc)


def _partition_name(table: str, day: date) -> str:
    return f"{table}_p{day:%Y%m%d}"


def _literal(moment: datetime) -> str:
    """Partition bounds cannot be bind parameters; ours are generated, never user input."""
    return f"'{moment.isoformat()}'"
