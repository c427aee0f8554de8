"""The viewer's own read-only queries on the trace database file.

The store's interface answers per-trace questions; the viewer also needs a few aggregates
(the overview) and a batch lookup (which listed traces were flagged). Those read the file
through a connection opened ``mode=ro``, so nothing here can change the store; every value is
a bound parameter.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterator
from contextlib import closing, contextmanager
from pathlib import Path


@contextmanager
def read_only(db_path: Path) -> Iterator[sqlite3.Connection]:
    uri = f"{db_path.resolve().as_uri()}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as conn:
        yield conn


def marks(values: Collection[object]) -> str:
    """``?, ?, ?``: one placeholder per value, for an ``IN (...)`` list."""
    return ", ".join("?" for _ in values)


def flagged_trace_ids(db_path: Path, trace_ids: Collection[str],
                      evaluators: Collection[str]) -> set[str]:
    """Which of ``trace_ids`` one of ``evaluators`` scored as failed (one indexed query)."""
    if not trace_ids or not evaluators:
        return set()
    sql = (f"SELECT DISTINCT trace_id FROM evaluations WHERE trace_id IN ({marks(trace_ids)}) "
           f"AND evaluator IN ({marks(evaluators)}) AND passed = 0")
    with read_only(db_path) as conn:
        rows = conn.execute(sql, (*trace_ids, *evaluators)).fetchall()
    return {str(row[0]) for row in rows}
