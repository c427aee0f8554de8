"""The ``evaluations`` table of the trace store."""

from __future__ import annotations

from pathlib import Path

from obs_core.spans import SpanRecord
from obs_core.store import SQLiteTraceStore
from obs_core.store._evaluations import EvaluationFilter, EvaluationRow, SQLiteEvaluationStore

TRACE = "aa" * 16


def _row(evaluator: str, *, passed: bool | None, created_ns: int = 1_000) -> EvaluationRow:
    return EvaluationRow(trace_id=TRACE, span_id="00000000000000aa", evaluator=evaluator,
                         score=None if passed is None else (0.9 if passed else 0.1),
                         label="x", passed=passed, explanation="why", version="1",
                         created_ns=created_ns, details={"judge": {"calls": 1}})


def test_rows_round_trip_with_their_details(tmp_path: Path) -> None:
    with SQLiteEvaluationStore(tmp_path / "t.db") as store:
        store.write([_row("good", passed=True)])

        [row] = store.for_trace(TRACE)

    assert row == _row("good", passed=True)


def test_failed_only_includes_unscored_rows(tmp_path: Path) -> None:
    with SQLiteEvaluationStore(tmp_path / "t.db") as store:
        store.write([_row("good", passed=True, created_ns=1), _row("bad", passed=False, created_ns=2),
                     _row("broken", passed=None, created_ns=3)])

        failed = store.query(EvaluationFilter(failed_only=True))

    assert [r.evaluator for r in failed] == ["broken", "bad"]


def test_purging_a_trace_removes_its_evaluations(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    with SQLiteTraceStore(db) as traces, SQLiteEvaluationStore(db) as evaluations:
        traces.write([SpanRecord(trace_id=TRACE, span_id="00000000000000aa", name="qa",
                                 start_time_ns=10, end_time_ns=20)])
        evaluations.write([_row("good", passed=True)])

        assert traces.purge(older_than_ns=1_000) == 1

        assert evaluations.for_trace(TRACE) == []
