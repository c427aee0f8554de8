"""A PostgreSQL table as the queue between applications and ``obs eval-worker`` processes.

Applications insert one row per sampled trace; workers claim batches with
``FOR UPDATE SKIP LOCKED`` so any number of them share the table without ever claiming the same
row, and a slow judge only delays the workers, never the application. A claim is a lease: a
worker that dies leaves its rows ``running`` and they become claimable again after
``lease_s``. Rows end ``done``, or ``failed`` after ``max_attempts`` claims.

The samples stored here have already been through the shared scrubber (the application side
scrubs before enqueueing), like everything else obs writes outside the process.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from obs_core.evals.base import EvalSample
from obs_core.evals.pipeline._samples import EvalJob

__all__ = ["ClaimedJob", "PostgresEvalQueue"]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_INSTALL_HINT = "the PostgreSQL evaluation queue needs psycopg 3: pip install 'obs-core[postgres]'"
_COLUMNS = "trace_id, span_id, evaluators, sample, attributes, forced"
"""What :meth:`PostgresEvalQueue.enqueue` writes, in order; the JSON ones travel as text."""


@dataclass(frozen=True, kw_only=True)
class ClaimedJob:
    id: int
    job: EvalJob
    attempts: int
    """Claims so far, this one included."""


class PostgresEvalQueue:
    """Enqueue, claim and settle evaluation jobs. One short connection per call; thread-safe."""

    def __init__(self, dsn: str, *, table: str = "obs_eval_jobs", schema: str | None = None,
                 lease_s: float = 300.0, max_attempts: int = 3, connect_timeout_s: float = 5.0) -> None:
        for name in (table, schema):
            if name is not None and not _IDENTIFIER.match(name):
                raise ValueError(f"{name!r} is not a plain SQL identifier")
        try:
            import psycopg
        except ImportError as exc:
            raise ImportError(_INSTALL_HINT) from exc
        self._psycopg = psycopg
        self._dsn = dsn
        self._table = f'"{schema}"."{table}"' if schema else f'"{table}"'
        self._schema = schema
        self._index = f"{table}_pending"
        self.lease_s = lease_s
        self.max_attempts = max(1, max_attempts)
        self.connect_timeout_s = connect_timeout_s

    def _connect(self) -> Any:
        try:
            return self._psycopg.connect(
                self._dsn, autocommit=True, connect_timeout=max(1, int(self.connect_timeout_s))
            )
        except self._psycopg.Error as exc:
            from obs_core.payloads._dsn import redact_message  # the password never reaches logs

            raise ConnectionError(redact_message(str(exc), self._dsn)) from None

    def create(self) -> None:
        """Create the schema and table when missing (idempotent)."""
        with self._connect() as conn:
            if self._schema:
                conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self._schema}"')
            conn.execute(f"""
                CREATE TABLE IF NOT EXISTS {self._table} (
                    id          BIGSERIAL PRIMARY KEY,
                    trace_id    TEXT        NOT NULL,
                    span_id     TEXT        NOT NULL,
                    evaluators  JSONB       NOT NULL,
                    sample      JSONB       NOT NULL,
                    attributes  JSONB       NOT NULL,
                    forced      TEXT,
                    status      TEXT        NOT NULL DEFAULT 'pending',
                    attempts    INTEGER     NOT NULL DEFAULT 0,
                    claimed_by  TEXT,
                    claimed_at  TIMESTAMPTZ,
                    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
                    last_error  TEXT
                )""")
            conn.execute(
                f'CREATE INDEX IF NOT EXISTS "{self._index}" ON {self._table} (status, id)'
            )

    def enqueue(self, jobs: Sequence[EvalJob]) -> None:
        """Add ``jobs`` as pending, all or none, ids ascending in batch order.

        One statement per batch with each column sent as one array, as the payload store
        writes: a row-by-row ``executemany`` costs a bind and execute per job on both sides.
        ``ORDER BY`` the ordinality keeps ids in batch order, so claims
        (oldest id first) stay first in, first out.
        """
        if not jobs:
            return
        columns = [list(values) for values in zip(*(
            (j.trace_id, j.span_id, json.dumps(list(j.evaluators)), j.sample.model_dump_json(),
             json.dumps(dict(j.attributes), default=str), j.forced)
            for j in jobs), strict=True)]
        with self._connect() as conn:
            conn.execute(
                f"INSERT INTO {self._table} ({_COLUMNS}) SELECT trace_id, span_id, "
                "evaluators::jsonb, sample::jsonb, attributes::jsonb, forced "
                "FROM unnest(%b::text[], %b::text[], %b::text[], %b::text[], %b::text[], %b::text[]) "
                f"WITH ORDINALITY AS u({_COLUMNS}, n) ORDER BY n",
                columns,
            )

    def claim(self, worker: str, *, limit: int = 10) -> list[ClaimedJob]:
        """Take up to ``limit`` pending (or lease-expired) jobs for ``worker``."""
        sql = f"""
            UPDATE {self._table} AS q
               SET status = 'running', claimed_by = %s, claimed_at = now(),
                   attempts = q.attempts + 1
             WHERE q.id IN (
                   SELECT id FROM {self._table}
                    WHERE status = 'pending'
                       OR (status = 'running'
                           AND claimed_at < now() - make_interval(secs => %s))
                    ORDER BY id
                    LIMIT %s
                    FOR UPDATE SKIP LOCKED)
         RETURNING q.id, q.trace_id, q.span_id, q.evaluators, q.sample, q.attributes, q.forced,
                   q.attempts"""
        with self._connect() as conn:
            rows = conn.execute(sql, (worker, self.lease_s, max(0, limit))).fetchall()
        claimed = [
            ClaimedJob(id=row[0], attempts=row[7], job=EvalJob(
                trace_id=row[1], span_id=row[2], evaluators=tuple(_json(row[3])),
                sample=EvalSample.model_validate(_json(row[4])), attributes=_json(row[5]),
                forced=row[6],
            ))
            for row in rows
        ]
        return sorted(claimed, key=lambda c: c.id)

    def complete(self, ids: Sequence[int]) -> None:
        if ids:
            with self._connect() as conn:
                conn.execute(f"UPDATE {self._table} SET status = 'done' WHERE id = ANY(%s)",
                             (list(ids),))

    def release(self, job_id: int, error: str) -> None:
        """A claim that failed: back to ``pending``, or ``failed`` once attempts run out."""
        with self._connect() as conn:
            conn.execute(
                f"UPDATE {self._table} SET status = CASE WHEN attempts >= %s THEN 'failed' "
                "ELSE 'pending' END, last_error = %s, claimed_by = NULL WHERE id = %s",
                (self.max_attempts, error[:1_000], job_id),
            )

    def counts(self) -> dict[str, int]:
        """Rows per status, for diagnostics and tests."""
        with self._connect() as conn:
            rows = conn.execute(f"SELECT status, count(*) FROM {self._table} GROUP BY status").fetchall()
        return {str(status): int(n) for status, n in rows}


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, (str, bytes)) else value
