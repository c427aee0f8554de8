"""The local trace store: one SQLite file in WAL mode, readable by its owner only.

Spans go into ``spans`` with the few facts summaries need pulled out into columns; each write
recomputes the ``traces`` row of every trace it touched from those columns, inside the same
transaction, so a trace listing reads one small indexed table whatever the trace sizes.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from obs_core._sqlite_batch import insert_rows
from obs_core.spans import SpanKind, SpanRecord
from obs_core.store._facts import span_facts
from obs_core.store._schema import TRACE_SCOPED_TABLES
from obs_core.store._sqlite import open_connection
from obs_core.store.traces import (
    StoreClosedError,
    TraceFilter,
    TraceSort,
    TraceStatus,
    TraceSummary,
)

_MAX_IDLE_CONNECTIONS: Final = 4

# Spans are upserted a batch per statement (see obs_core._sqlite_batch): the head, the rows,
# then the conflict clause.
_UPSERT_SPAN_HEAD: Final = """
INSERT INTO spans (
    trace_id, span_id, parent_span_id, name, kind, start_time_ns, end_time_ns, status,
    is_obs_root, is_error, input_tokens, output_tokens, cost_usd, model, agent_steps,
    agent_step_limit, agent_limit_hit, session_id, pipeline_version, service_name,
    status_message, attributes, events
)"""
_UPSERT_SPAN_TAIL: Final = """
ON CONFLICT (trace_id, span_id) DO UPDATE SET
    parent_span_id = excluded.parent_span_id, name = excluded.name, kind = excluded.kind,
    start_time_ns = excluded.start_time_ns, end_time_ns = excluded.end_time_ns,
    status = excluded.status, is_obs_root = excluded.is_obs_root, is_error = excluded.is_error,
    input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens,
    cost_usd = excluded.cost_usd, model = excluded.model, agent_steps = excluded.agent_steps,
    agent_step_limit = excluded.agent_step_limit, agent_limit_hit = excluded.agent_limit_hit,
    session_id = excluded.session_id, pipeline_version = excluded.pipeline_version,
    service_name = excluded.service_name, status_message = excluded.status_message,
    attributes = excluded.attributes, events = excluded.events
"""

# One statement refreshes the summary of every trace a batch touched (the ids arrive as one
# JSON array parameter). The root is the parentless span if stored, else the obs root (the
# trace began in another process), else the earliest span. `WHERE true` keeps SQLite's
# parser from reading ON CONFLICT as a join constraint.
_REFRESH_SUMMARIES: Final = """
INSERT INTO traces (
    trace_id, root_span_id, root_name, root_kind, start_time_ns, end_time_ns, duration_ns,
    span_count, input_tokens, output_tokens, total_tokens, cost_usd, error_count, status,
    agent_steps, agent_step_limit, agent_limit_hit, models, session_id, pipeline_version,
    service_name
)
SELECT
    agg.trace_id, root.span_id, root.name, root.kind, agg.start_ns, agg.end_ns,
    agg.end_ns - agg.start_ns, agg.span_count, agg.input_tokens, agg.output_tokens,
    agg.input_tokens + agg.output_tokens, agg.cost_usd, agg.errors,
    CASE WHEN agg.errors > 0 THEN 'ERROR' ELSE 'OK' END,
    agg.steps, agg.step_limit, agg.limit_hit,
    (SELECT json_group_array(model) FROM (
        SELECT model FROM spans AS m
        WHERE m.trace_id = agg.trace_id AND m.model IS NOT NULL
        GROUP BY model ORDER BY MIN(m.start_time_ns), model)),
    COALESCE(root.session_id, agg.any_session),
    COALESCE(root.pipeline_version, agg.any_pipeline),
    COALESCE(root.service_name, agg.any_service)
FROM (
    SELECT trace_id, MIN(start_time_ns) AS start_ns, MAX(end_time_ns) AS end_ns,
           COUNT(*) AS span_count, SUM(input_tokens) AS input_tokens,
           SUM(output_tokens) AS output_tokens, TOTAL(cost_usd) AS cost_usd,
           SUM(is_error) AS errors, SUM(agent_steps) AS steps,
           MAX(agent_step_limit) AS step_limit, MAX(agent_limit_hit) AS limit_hit,
           MIN(session_id) AS any_session, MIN(pipeline_version) AS any_pipeline,
           MIN(service_name) AS any_service
    FROM spans
    WHERE trace_id IN (SELECT value FROM json_each(?))
    GROUP BY trace_id
) AS agg
JOIN spans AS root ON root.trace_id = agg.trace_id AND root.span_id = (
    SELECT r.span_id FROM spans AS r WHERE r.trace_id = agg.trace_id
    ORDER BY r.parent_span_id IS NOT NULL, r.is_obs_root DESC, r.start_time_ns, r.span_id
    LIMIT 1)
WHERE true
ON CONFLICT (trace_id) DO UPDATE SET
    root_span_id = excluded.root_span_id, root_name = excluded.root_name,
    root_kind = excluded.root_kind, start_time_ns = excluded.start_time_ns,
    end_time_ns = excluded.end_time_ns, duration_ns = excluded.duration_ns,
    span_count = excluded.span_count, input_tokens = excluded.input_tokens,
    output_tokens = excluded.output_tokens, total_tokens = excluded.total_tokens,
    cost_usd = excluded.cost_usd, error_count = excluded.error_count, status = excluded.status,
    agent_steps = excluded.agent_steps, agent_step_limit = excluded.agent_step_limit,
    agent_limit_hit = excluded.agent_limit_hit, models = excluded.models,
    session_id = excluded.session_id, pipeline_version = excluded.pipeline_version,
    service_name = excluded.service_name
"""

_SUMMARY_COLUMNS: Final = """
trace_id, root_span_id, root_name, root_kind, start_time_ns, end_time_ns, span_count,
input_tokens, output_tokens, cost_usd, error_count, status, agent_steps, agent_step_limit,
agent_limit_hit, models, session_id, pipeline_version, service_name
"""

_SPAN_COLUMNS: Final = """
trace_id, span_id, parent_span_id, name, kind, start_time_ns, end_time_ns, status,
status_message, attributes, events, service_name
"""

_SORT_COLUMNS: Final = {
    TraceSort.START: "start_time_ns",
    TraceSort.DURATION: "duration_ns",
    TraceSort.TOKENS: "total_tokens",
    TraceSort.COST: "cost_usd",
}

_MAX_CODE_POINT: Final = "\U0010ffff"


class SQLiteTraceStore:
    """A :class:`~obs_core.store.TraceStore` in one local SQLite file.

    Safe to share between threads: each call borrows a connection from a small pool, and
    writers in this process take turns (other processes wait on SQLite's busy timeout).
    ``read_only`` opens the file without write access, for inspecting a store you must not
    change; writes then raise :class:`sqlite3.OperationalError`.
    """

    def __init__(self, path: str | os.PathLike[str], *, read_only: bool = False) -> None:
        self._path = Path(path)
        self._read_only = read_only
        self._pool_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._closed = False
        # Open one now so a bad path or an unreadable file fails here, not in the exporter.
        self._idle.append(open_connection(self._path, read_only=read_only))

    @property
    def path(self) -> Path:
        return self._path

    def __enter__(self) -> SQLiteTraceStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- writing ---------------------------------------------------------------------------

    def write(self, records: Sequence[SpanRecord]) -> None:
        if not records:
            return
        span_rows: list[tuple[Any, ...]] = []
        model_rows: list[tuple[str, str]] = []
        for record in records:
            facts = span_facts(record)
            span_rows.append((
                record.trace_id, record.span_id, record.parent_span_id, record.name,
                record.kind, record.start_time_ns, record.end_time_ns, record.status,
                int(facts.is_obs_root), int(facts.is_error), facts.input_tokens,
                facts.output_tokens, facts.cost_usd, facts.model, facts.agent_steps,
                facts.agent_step_limit, int(facts.agent_limit_hit), facts.session_id,
                facts.pipeline_version, record.service_name, record.status_message,
                _to_json(record.attributes), _to_json(record.events),
            ))
            model_rows.extend((record.trace_id, name) for name in facts.model_names)
        trace_ids = list(dict.fromkeys(record.trace_id for record in records))
        with self._write_lock, self._borrow() as conn, _transaction(conn):
            insert_rows(conn, _UPSERT_SPAN_HEAD, span_rows, _UPSERT_SPAN_TAIL)
            insert_rows(conn, "INSERT OR IGNORE INTO trace_models (trace_id, model)", model_rows)
            conn.execute(_REFRESH_SUMMARIES, (json.dumps(trace_ids),))

    def purge(self, older_than_ns: int) -> int:
        with self._write_lock, self._borrow() as conn, _transaction(conn):
            for table in TRACE_SCOPED_TABLES:  # constant names, checked in _schema
                conn.execute(
                    f"DELETE FROM {table} WHERE trace_id IN "
                    "(SELECT trace_id FROM traces WHERE end_time_ns < ?)",
                    (older_than_ns,),
                )
            cursor = conn.execute("DELETE FROM traces WHERE end_time_ns < ?", (older_than_ns,))
            return cursor.rowcount

    # --- reading ---------------------------------------------------------------------------

    def list_traces(self, trace_filter: TraceFilter | None = None) -> list[TraceSummary]:
        flt = trace_filter or TraceFilter()
        where, params = _where(flt)
        direction = "DESC" if flt.descending else "ASC"
        sql = (
            f"SELECT {_SUMMARY_COLUMNS} FROM traces {where} "
            f"ORDER BY {_SORT_COLUMNS[flt.sort]} {direction}, trace_id {direction} "
            "LIMIT ? OFFSET ?"
        )
        with self._borrow() as conn:
            rows = conn.execute(sql, (*params, flt.limit, flt.offset)).fetchall()
        return [_summary(row) for row in rows]

    def count_traces(self, trace_filter: TraceFilter | None = None) -> int:
        where, params = _where(trace_filter or TraceFilter())
        with self._borrow() as conn:
            row = conn.execute(f"SELECT COUNT(*) FROM traces {where}", params).fetchone()
        return int(row[0])

    def get_summary(self, trace_id: str) -> TraceSummary | None:
        with self._borrow() as conn:
            row = conn.execute(
                f"SELECT {_SUMMARY_COLUMNS} FROM traces WHERE trace_id = ?", (trace_id,)
            ).fetchone()
        return None if row is None else _summary(row)

    def get_trace(self, trace_id: str) -> list[SpanRecord]:
        with self._borrow() as conn:
            rows = conn.execute(
                f"SELECT {_SPAN_COLUMNS} FROM spans WHERE trace_id = ? "
                "ORDER BY start_time_ns, span_id",
                (trace_id,),
            ).fetchall()
        return [_span(row) for row in rows]

    def trace_ids_with_prefix(self, prefix: str, *, limit: int = 10) -> list[str]:
        with self._borrow() as conn:
            rows = conn.execute(
                "SELECT trace_id FROM traces WHERE trace_id >= ? AND trace_id < ? "
                "ORDER BY trace_id LIMIT ?",
                (prefix, prefix + _MAX_CODE_POINT, max(limit, 0)),
            ).fetchall()
        return [str(row[0]) for row in rows]

    # --- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Close every idle connection; ones in use close when their call returns."""
        with self._pool_lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    @contextmanager
    def _borrow(self) -> Iterator[sqlite3.Connection]:
        with self._pool_lock:
            if self._closed:
                raise StoreClosedError(f"trace store {self._path} is closed")
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = open_connection(self._path, read_only=self._read_only)
        try:
            yield conn
        finally:
            with self._pool_lock:
                keep = (
                    not self._closed
                    and not conn.in_transaction
                    and len(self._idle) < _MAX_IDLE_CONNECTIONS
                )
                if keep:
                    self._idle.append(conn)
            if not keep:
                conn.close()


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if conn.in_transaction:  # SQLite may already have rolled back (disk full, I/O error)
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _where(flt: TraceFilter) -> tuple[str, tuple[Any, ...]]:
    clauses: list[str] = []
    params: list[Any] = []
    if not flt.include_evaluations:
        clauses.append("root_kind IS NOT ?")
        params.append(SpanKind.EVALUATION.value)
    if flt.since_ns is not None:
        clauses.append("start_time_ns >= ?")
        params.append(flt.since_ns)
    if flt.until_ns is not None:
        clauses.append("start_time_ns < ?")
        params.append(flt.until_ns)
    if flt.status is not None:
        clauses.append("status = ?")
        params.append(flt.status.value)
    if flt.name_contains:
        # instr, not LIKE: the user's % and _ are literal characters.
        clauses.append("instr(lower(root_name), lower(?)) > 0")
        params.append(flt.name_contains)
    if flt.model is not None:
        clauses.append("trace_id IN (SELECT trace_id FROM trace_models WHERE model = ?)")
        params.append(flt.model)
    if flt.session_id is not None:
        clauses.append("session_id = ?")
        params.append(flt.session_id)
    if flt.pipeline_version is not None:
        clauses.append("pipeline_version = ?")
        params.append(flt.pipeline_version)
    if flt.limit_hit_only:
        clauses.append("agent_limit_hit = 1")
    if flt.min_duration_ns is not None:
        clauses.append("duration_ns >= ?")
        params.append(flt.min_duration_ns)
    if flt.failed_evaluators:
        marks = ", ".join("?" for _ in flt.failed_evaluators)
        clauses.append("trace_id IN (SELECT trace_id FROM evaluations "
                       f"WHERE passed = 0 AND evaluator IN ({marks}))")
        params.extend(flt.failed_evaluators)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    return where, tuple(params)


def _summary(row: sqlite3.Row | tuple[Any, ...]) -> TraceSummary:
    (trace_id, root_span_id, root_name, root_kind, start, end, span_count, input_tokens,
     output_tokens, cost, errors, status, steps, step_limit, limit_hit, models, session,
     pipeline, service) = row
    return TraceSummary(
        trace_id=trace_id, root_span_id=root_span_id, root_name=root_name, root_kind=root_kind,
        start_time_ns=start, end_time_ns=end, span_count=span_count, input_tokens=input_tokens,
        output_tokens=output_tokens, cost_usd=cost, error_count=errors,
        status=TraceStatus(status), agent_steps=steps, agent_step_limit=step_limit,
        agent_limit_hit=bool(limit_hit), models=tuple(json.loads(models)), session_id=session,
        pipeline_version=pipeline, service_name=service,
    )


def _span(row: tuple[Any, ...]) -> SpanRecord:
    (trace_id, span_id, parent, name, kind, start, end, status, message, attributes, events,
     service) = row
    return SpanRecord(
        trace_id=trace_id, span_id=span_id, parent_span_id=parent, name=name, kind=kind,
        start_time_ns=start, end_time_ns=end, status=status, status_message=message,
        attributes=json.loads(attributes), events=json.loads(events), service_name=service,
    )


def _to_json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
