"""``obs show TRACE_ID``: one trace as a span tree with timings, usage, errors and agents."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from obs_core.cli._common import CliError, Subparsers, add_db_option, open_trace_store
from obs_core.cli._evals import open_evaluation_store, render_evaluations, row_json
from obs_core.cli._render import (
    Style,
    clean,
    color_enabled,
    fmt_cost,
    fmt_duration,
    fmt_time,
    fmt_tokens,
    glyphs_for,
)
from obs_core.cli._traces import summary_json
from obs_core.cli._tree import TreeOptions, render_tree
from obs_core.spans import SpanRecord
from obs_core.store import TraceStatus, TraceStore, TraceSummary
from obs_core.store._evaluations import EvaluationRow

_AMBIGUOUS_SHOWN = 5


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "show",
        help="show one trace as a span tree",
        description="Show every span of a trace with start offsets, durations, token usage, "
        "cost, errors, agent summaries and retrieval results.",
    )
    parser.add_argument("trace_id", metavar="TRACE_ID", help="trace id or a unique prefix of it")
    add_db_option(parser)
    parser.add_argument("--attrs", action="store_true", help="also list every span attribute")
    parser.add_argument("--json", action="store_true",
                        help="print the summary and the spans as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    store = open_trace_store(args)
    try:
        trace_id = resolve_trace_id(store, args.trace_id)
        summary = store.get_summary(trace_id)
        spans = store.get_trace(trace_id)
    finally:
        store.close()
    if summary is None or not spans:
        raise CliError(f"trace {trace_id} has no stored spans")
    evaluations = _evaluations(args, trace_id)
    out = sys.stdout
    if args.json:
        document = {
            "summary": summary_json(summary),
            "spans": [_span_json(span) for span in spans],
            "evaluations": [row_json(row) for row in evaluations],
        }
        json.dump(document, out, indent=2)
        out.write("\n")
        return 0
    style = Style(color_enabled(out))
    options = TreeOptions(style=style, glyphs=glyphs_for(out), show_attributes=args.attrs)
    for line in _header(summary, style):
        print(line)
    print()
    for line in render_tree(spans, trace_start_ns=summary.start_time_ns, options=options):
        print(line)
    if evaluations:
        print()
        print(style.bold("evaluations"))
        for line in render_evaluations(evaluations, style=style, with_trace=False):
            print(f"  {line}")
    return 0


# --- evaluation results (obs_core.evals.pipeline writes them) ------------------------------

def _evaluations(args: argparse.Namespace, trace_id: str) -> list[EvaluationRow]:
    store = open_evaluation_store(args)
    try:
        return store.for_trace(trace_id)
    finally:
        store.close()


def resolve_trace_id(store: TraceStore, text: str) -> str:
    """The full id for ``text``: an exact id, or a prefix only one stored trace starts with."""
    prefix = text.strip().lower()
    if not prefix:
        raise CliError("empty trace id", exit_code=2)
    matches = store.trace_ids_with_prefix(prefix, limit=_AMBIGUOUS_SHOWN + 1)
    if prefix in matches:
        return prefix
    if not matches:
        raise CliError(f"no trace id starts with {clean(text)!r}")
    if len(matches) > 1:
        listed = ", ".join(matches[:_AMBIGUOUS_SHOWN])
        more = ", ..." if len(matches) > _AMBIGUOUS_SHOWN else ""
        raise CliError(f"{clean(text)!r} matches several traces: {listed}{more}")
    return matches[0]


def _header(summary: TraceSummary, style: Style) -> list[str]:
    status = (
        style.red(f"ERROR ({summary.error_count} failed span{'s' if summary.error_count != 1 else ''})")
        if summary.status is TraceStatus.ERROR
        else style.green("OK")
    )
    rows: list[tuple[str, str]] = [
        ("trace", summary.trace_id),
        ("root", style.bold(clean(summary.root_name))),
        ("started", fmt_time(summary.start_time_ns)),
        ("duration", f"{fmt_duration(summary.duration_ns)}   spans {summary.span_count}"),
        ("status", status),
    ]
    if summary.total_tokens or summary.cost_usd:
        rows.append((
            "usage",
            f"{fmt_tokens(summary.total_tokens)} tokens "
            f"(in {fmt_tokens(summary.input_tokens)}, out {fmt_tokens(summary.output_tokens)})"
            f"   cost {fmt_cost(summary.cost_usd)}",
        ))
    if summary.models:
        rows.append(("models", ", ".join(clean(m) for m in summary.models)))
    if summary.agent_steps or summary.agent_step_limit is not None:
        steps = str(summary.agent_steps)
        if summary.agent_step_limit is not None:
            steps += f" (limit {summary.agent_step_limit})"
        if summary.agent_limit_hit:
            steps += "  " + style.yellow("step limit reached")
        rows.append(("agent steps", steps))
    for label, value in (
        ("session", summary.session_id),
        ("pipeline", summary.pipeline_version),
        ("service", summary.service_name),
    ):
        if value:
            rows.append((label, clean(value)))
    width = max(len(label) for label, _ in rows)
    return [f"{style.dim(label.ljust(width))}  {value}" for label, value in rows]


def _span_json(span: SpanRecord) -> dict[str, Any]:
    data = span.model_dump(mode="json")
    data["duration_ms"] = span.duration_ms
    return data
