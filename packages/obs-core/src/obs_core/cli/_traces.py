"""``obs traces``: recent traces, one line each, newest first."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from obs_core.cli._common import (
    Subparsers,
    add_db_option,
    duration_ns,
    open_trace_store,
    point_in_time_ns,
)
from obs_core.cli._render import (
    Style,
    clean,
    color_enabled,
    fmt_cost,
    fmt_duration,
    fmt_time,
    fmt_tokens,
    iso_utc,
    table,
)
from obs_core.store import TraceFilter, TraceSort, TraceStatus, TraceSummary

_ROOT_NAME_WIDTH = 48
_SHORT_ID = 16
_HEADERS = ("TIME", "TRACE", "ROOT", "DURATION", "SPANS", "TOKENS", "COST", "STATUS", "STEPS")
_RIGHT = frozenset({3, 4, 5, 6})
_STATUS_COL, _STEPS_COL = 7, 8


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "traces",
        help="list recent traces",
        description="List recorded traces, newest first. Times accept an age (30m, 2h, 7d) "
        "or an ISO date/time.",
    )
    add_db_option(parser)
    parser.add_argument("--since", type=point_in_time_ns, metavar="WHEN",
                        help="only traces started after this (e.g. 1h, 2025-01-31)")
    parser.add_argument("--until", type=point_in_time_ns, metavar="WHEN",
                        help="only traces started before this")
    status = parser.add_mutually_exclusive_group()
    status.add_argument("--errors", action="store_const", dest="status",
                        const=TraceStatus.ERROR, help="only traces with a failed span")
    status.add_argument("--ok", action="store_const", dest="status", const=TraceStatus.OK,
                        help="only traces without a failed span")
    parser.add_argument("--name", metavar="TEXT", help="root span name contains TEXT")
    parser.add_argument("--model", help="a model call used this model (exact name)")
    parser.add_argument("--session", metavar="ID", help="session / conversation id")
    parser.add_argument("--pipeline-version", metavar="VERSION",
                        help="runs recorded with this obs.pipeline.version")
    parser.add_argument("--limit-hit", action="store_true",
                        help="only traces where an agent reached its step limit")
    parser.add_argument("--min-duration", type=duration_ns, metavar="DURATION",
                        help="only traces lasting at least this (e.g. 500ms, 2s)")
    parser.add_argument("--sort", choices=[s.value for s in TraceSort], default="start",
                        help="order by this, largest/newest first (default: start)")
    parser.add_argument("--asc", action="store_true", help="smallest/oldest first")
    parser.add_argument("--limit", "-n", type=_count, default=50, metavar="N",
                        help="show at most N traces (default: 50)")
    parser.add_argument("--offset", type=_count, default=0, metavar="N",
                        help="skip the first N traces")
    parser.add_argument("--evaluations", action="store_true",
                        help="also list the traces of evaluation results (evaluate X)")
    parser.add_argument("--json", action="store_true", help="print a JSON array")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    trace_filter = TraceFilter(
        since_ns=args.since,
        until_ns=args.until,
        status=args.status,
        name_contains=args.name,
        model=args.model,
        session_id=args.session,
        pipeline_version=args.pipeline_version,
        limit_hit_only=args.limit_hit,
        min_duration_ns=args.min_duration,
        include_evaluations=args.evaluations,
        sort=TraceSort(args.sort),
        descending=not args.asc,
        limit=args.limit,
        offset=args.offset,
    )
    store = open_trace_store(args)
    try:
        summaries = store.list_traces(trace_filter)
        total = store.count_traces(trace_filter) if not args.json else len(summaries)
    finally:
        store.close()
    out = sys.stdout
    if args.json:
        json.dump([summary_json(s) for s in summaries], out, indent=2)
        out.write("\n")
        return 0
    if not summaries:
        print("no traces match" if total == 0 and args.offset == 0 else "no more traces")
        return 0
    style = Style(color_enabled(out))
    for line in render_table(summaries, style=style):
        print(line)
    shown_to = args.offset + len(summaries)
    if shown_to < total:
        print(f"{args.offset + 1}-{shown_to} of {total} traces (--limit/--offset for more)",
              file=sys.stderr)
    return 0


def render_table(summaries: list[TraceSummary], *, style: Style) -> list[str]:
    rows = [_row(s) for s in summaries]

    def paint(row: int, col: int, cell: str) -> str:
        summary = summaries[row]
        if col == _STATUS_COL:
            return style.red(cell) if summary.status is TraceStatus.ERROR else style.green(cell)
        if col == _STEPS_COL and summary.agent_limit_hit:
            return style.yellow(cell)
        return cell

    return table(_HEADERS, rows, right_aligned=_RIGHT, paint=paint, header_style=style.bold)


def _row(summary: TraceSummary) -> list[str]:
    return [
        fmt_time(summary.start_time_ns),
        summary.trace_id[:_SHORT_ID],
        clean(summary.root_name, max_len=_ROOT_NAME_WIDTH),
        fmt_duration(summary.duration_ns),
        str(summary.span_count),
        fmt_tokens(summary.total_tokens),
        fmt_cost(summary.cost_usd),
        _status(summary),
        _steps(summary),
    ]


def _status(summary: TraceSummary) -> str:
    if summary.status is TraceStatus.OK:
        return "ok"
    return "error" if summary.error_count <= 1 else f"error({summary.error_count})"


def _steps(summary: TraceSummary) -> str:
    if not summary.agent_steps and summary.agent_step_limit is None:
        return ""
    text = str(summary.agent_steps)
    if summary.agent_step_limit is not None:
        text += f"/{summary.agent_step_limit}"
    return f"{text} LIMIT" if summary.agent_limit_hit else text


def summary_json(summary: TraceSummary) -> dict[str, Any]:
    """The summary as plain JSON, with derived fields a script would otherwise recompute."""
    data = summary.model_dump(mode="json")
    data["start_time"] = iso_utc(summary.start_time_ns)
    data["duration_ms"] = summary.duration_ms
    data["total_tokens"] = summary.total_tokens
    return data


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0 or value > 100_000:
        raise argparse.ArgumentTypeError("must be between 0 and 100000")
    return value
