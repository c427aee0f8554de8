"""Evaluation results in the local trace database (the ``evaluations`` table).

Kept apart from :mod:`obs_core.store._sqlite_traces` because evaluations arrive later than
spans, from another thread or process, and are read by their own commands (``obs evals``,
the evaluation section of ``obs show``). Both share the file, its pragmas and migrations.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field

from obs_core.store._sqlite import open_connection

__all__ = ["EvaluationFilter", "EvaluationRow", "SQLiteEvaluationStore"]

_COLUMNS: Final = (
    "trace_id, span_id, evaluator, score, label, passed, explanation, version, judge_model, "
    "created_ns, details"
)


class EvaluationRow(BaseModel):
    """One evaluator outcome on one span, as stored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    trace_id: str
    span_id: str
    """The evaluated span (the trace's root run)."""
    evaluator: str
    score: float | None
    """``None`` when the evaluator failed to score."""
    label: str
    passed: bool | None
    explanation: str
    version: str
    judge_model: str | None = None
    created_ns: int
    details: dict[str, Any] = Field(default_factory=dict)


class EvaluationFilter(BaseModel):
    """Which rows ``query`` returns, newest first."""

    model_config = ConfigDict(extra="forbid")

    trace_id: str | None = None
    """Exact id, or a prefix of one."""
    evaluator: str | None = None
    failed_only: bool = False
    """Only rows that did not pass (scored below threshold, or could not be scored)."""
    since_ns: int | None = None
    limit: int = Field(default=50, ge=0)


class SQLiteEvaluationStore:
    """Appends and lists evaluation rows; thread-safe, one connection behind a lock."""

    def __init__(self, path: str | os.PathLike[str], *, read_only: bool = False) -> None:
        self._path = Path(path)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = open_connection(self._path, read_only=read_only)

    @property
    def path(self) -> Path:
        return self._path

    def write(self, rows: Sequence[EvaluationRow]) -> None:
        if not rows:
            return
        values = [
            (r.trace_id, r.span_id, r.evaluator, r.score, r.label,
             None if r.passed is None else int(r.passed), r.explanation, r.version,
             r.judge_model, r.created_ns,
             json.dumps(r.details, ensure_ascii=False, separators=(",", ":"), default=str))
            for r in rows
        ]
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(
                    f"INSERT INTO evaluations ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    values,
                )
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def query(self, flt: EvaluationFilter | None = None) -> list[EvaluationRow]:
        flt = flt or EvaluationFilter()
        clauses: list[str] = []
        params: list[Any] = []
        if flt.trace_id:
            prefix = flt.trace_id.strip().lower()
            clauses.append("trace_id >= ? AND trace_id < ?")
            params.extend((prefix, prefix + "\U0010ffff"))
        if flt.evaluator:
            clauses.append("evaluator = ?")
            params.append(flt.evaluator)
        if flt.failed_only:
            clauses.append("(passed IS NULL OR passed = 0)")
        if flt.since_ns is not None:
            clauses.append("created_ns >= ?")
            params.append(flt.since_ns)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"SELECT {_COLUMNS} FROM evaluations {where} ORDER BY created_ns DESC, rowid DESC LIMIT ?"
        with self._lock:
            rows = self._connection().execute(sql, (*params, flt.limit)).fetchall()
        return [_row(r) for r in rows]

    def for_trace(self, trace_id: str) -> list[EvaluationRow]:
        """Every row of one trace, oldest first."""
        with self._lock:
            rows = self._connection().execute(
                f"SELECT {_COLUMNS} FROM evaluations WHERE trace_id = ? "
                "ORDER BY created_ns, rowid", (trace_id,),
            ).fetchall()
        return [_row(r) for r in rows]

    def close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def __enter__(self) -> SQLiteEvaluationStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            from obs_core.store.traces import StoreClosedError

            raise StoreClosedError(f"evaluation store {self._path} is closed")
        return self._conn


def _row(row: tuple[Any, ...]) -> EvaluationRow:
    (trace_id, span_id, evaluator, score, label, passed, explanation, version, judge_model,
     created_ns, details) = row
    return EvaluationRow(
        trace_id=trace_id, span_id=span_id, evaluator=evaluator, score=score, label=label,
        passed=None if passed is None else bool(passed), explanation=explanation,
        version=version, judge_model=judge_model, created_ns=created_ns,
        details=json.loads(details),
    )
