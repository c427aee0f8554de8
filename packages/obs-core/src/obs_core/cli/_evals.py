"""``obs evals``: evaluation results, newest first, with trace, evaluator and failure filters."""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from typing import TYPE_CHECKING, Any

from obs_core.cli._common import (
    CliError,
    Subparsers,
    add_db_option,
    point_in_time_ns,
    trace_store_path,
)
from obs_core.cli._render import Style, clean, color_enabled, fmt_time, iso_utc, table

if TYPE_CHECKING:
    from obs_core.store._evaluations import EvaluationRow, SQLiteEvaluationStore

_HEADERS = ("TIME", "TRACE", "EVALUATOR", "SCORE", "LABEL", "RESULT", "EXPLANATION")
_SHORT_ID = 16
_EXPLANATION_WIDTH = 60
_RESULT_COL = 5


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "evals",
        help="list evaluation results",
        description="List evaluator results recorded for traces, newest first.",
    )
    add_db_option(parser)
    parser.add_argument("--trace", metavar="TRACE_ID", help="only this trace (id or prefix)")
    parser.add_argument("--evaluator", metavar="NAME", help="only this evaluator")
    parser.add_argument("--failed", action="store_true",
                        help="only results that did not pass (or could not be scored)")
    parser.add_argument("--since", type=point_in_time_ns, metavar="WHEN",
                        help="only results recorded after this (e.g. 1h, 2025-01-31)")
    parser.add_argument("--limit", "-n", type=int, default=50, metavar="N",
                        help="show at most N results (default: 50)")
    parser.add_argument("--json", action="store_true", help="print a JSON array")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from obs_core.store._evaluations import EvaluationFilter

    if args.limit < 0:
        raise CliError("--limit must be >= 0", exit_code=2)
    store = open_evaluation_store(args)
    try:
        rows = store.query(EvaluationFilter(
            trace_id=args.trace, evaluator=args.evaluator, failed_only=args.failed,
            since_ns=args.since, limit=args.limit,
        ))
    finally:
        store.close()
    out = sys.stdout
    if args.json:
        json.dump([row_json(r) for r in rows], out, indent=2)
        out.write("\n")
        return 0
    if not rows:
        print("no evaluations match")
        return 0
    for line in render_evaluations(rows, style=Style(color_enabled(out))):
        print(line)
    return 0


def open_evaluation_store(args: argparse.Namespace) -> SQLiteEvaluationStore:
    from obs_core.store._evaluations import SQLiteEvaluationStore

    path = trace_store_path(args)
    if not path.is_file():
        raise CliError(f"no trace store at {path} (pass --db)")
    try:
        return SQLiteEvaluationStore(path)
    except (sqlite3.Error, OSError):
        pass
    try:
        return SQLiteEvaluationStore(path, read_only=True)
    except (sqlite3.Error, OSError) as exc:
        raise CliError(f"cannot open trace store {path}: {exc}") from exc


def render_evaluations(rows: list[EvaluationRow], *, style: Style,
                       with_trace: bool = True) -> list[str]:
    """The table ``obs evals`` prints; ``obs show`` reuses it without the trace column."""
    cells = [_cells(r) for r in rows]
    headers: tuple[str, ...] = _HEADERS
    result_col = _RESULT_COL
    if not with_trace:
        headers = tuple(h for i, h in enumerate(_HEADERS) if i != 1)
        cells = [[c for i, c in enumerate(row) if i != 1] for row in cells]
        result_col -= 1

    def paint(row: int, col: int, cell: str) -> str:
        if col != result_col:
            return cell
        passed = rows[row].passed
        if passed is None:
            return style.yellow(cell)
        return style.green(cell) if passed else style.red(cell)

    return table(headers, cells, right_aligned=frozenset({3}) if with_trace else frozenset({2}),
                 paint=paint, header_style=style.bold)


def _cells(row: EvaluationRow) -> list[str]:
    result = "error" if row.passed is None else ("pass" if row.passed else "FAIL")
    return [
        fmt_time(row.created_ns),
        row.trace_id[:_SHORT_ID],
        clean(row.evaluator, max_len=32),
        "-" if row.score is None else f"{row.score:.2f}",
        clean(row.label, max_len=24),
        result,
        clean(row.explanation, max_len=_EXPLANATION_WIDTH),
    ]


def row_json(row: EvaluationRow) -> dict[str, Any]:
    data = row.model_dump(mode="json")
    data["time"] = iso_utc(row.created_ns)
    return data
