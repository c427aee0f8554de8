"""A trace's spans as an indented tree with one line per span and detail lines below it.

Pure: takes records and returns lines, so the layout is tested without a terminal. Attribute
values are only ever parsed as data (``json.loads``) and printed through :func:`clean`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from obs_core import semconv
from obs_core.cli._render import (
    Glyphs,
    Style,
    clean,
    fmt_cost,
    fmt_duration,
    fmt_offset,
    fmt_tokens,
)
from obs_core.spans import SpanKind, SpanRecord

_MESSAGE_WIDTH = 160
_VALUE_WIDTH = 160
_MAX_SCORES = 5
_TIME_COLUMNS = 21  # width of "{offset:>9} {duration:>9}  "
_MODEL_KINDS = frozenset({SpanKind.LLM.value, SpanKind.EMBEDDING.value})


@dataclass(frozen=True, kw_only=True)
class TreeOptions:
    style: Style
    glyphs: Glyphs
    show_attributes: bool = False


def render_tree(spans: list[SpanRecord], *, trace_start_ns: int, options: TreeOptions) -> list[str]:
    """Spans whose parent is not in the list (remote or not yet exported) start new roots."""
    by_id = {span.span_id: span for span in spans}
    children: dict[str, list[SpanRecord]] = {}
    roots: list[SpanRecord] = []
    ordered = sorted(spans, key=lambda s: (s.start_time_ns, s.span_id))
    for span in ordered:
        parent = span.parent_span_id
        if parent is not None and parent in by_id and parent != span.span_id:
            children.setdefault(parent, []).append(span)
        else:
            roots.append(span)

    lines: list[str] = []
    seen: set[str] = set()
    # Spans in a corrupt parent cycle have no root above them; they are drawn as roots too.
    for root in [*roots, *ordered]:
        if root.span_id not in seen:
            _draw(root, children, trace_start_ns, options, lines, seen)
    return lines


def _draw(root: SpanRecord, children: dict[str, list[SpanRecord]], trace_start_ns: int,
          options: TreeOptions, lines: list[str], seen: set[str]) -> None:
    g = options.glyphs
    # (span, prefix of this span's line, prefix its descendants inherit); a stack, not
    # recursion, so a very deep trace cannot exhaust the interpreter's stack.
    stack: list[tuple[SpanRecord, str, str]] = [(root, "", "")]
    while stack:
        span, line_prefix, child_prefix = stack.pop()
        if span.span_id in seen:
            continue
        seen.add(span.span_id)
        kids = [kid for kid in children.get(span.span_id, []) if kid.span_id not in seen]
        lines.append(_span_line(span, trace_start_ns, line_prefix, options))
        detail_prefix = " " * _TIME_COLUMNS + child_prefix + (g.pipe if kids else g.blank)
        lines.extend(
            detail_prefix + options.style.dim(detail) for detail in _details(span, options)
        )
        for index in reversed(range(len(kids))):
            last = index == len(kids) - 1
            stack.append((
                kids[index],
                child_prefix + (g.last if last else g.branch),
                child_prefix + (g.blank if last else g.pipe),
            ))


def _span_line(span: SpanRecord, trace_start_ns: int, prefix: str, options: TreeOptions) -> str:
    style = options.style
    timing = (
        f"{fmt_offset(span.start_time_ns - trace_start_ns):>9} "
        f"{fmt_duration(span.end_time_ns - span.start_time_ns):>9}"
    )
    parts = [style.bold(clean(span.name))]
    if span.kind:
        parts.append(style.cyan(f"[{clean(span.kind)}]"))
    attrs = span.attributes
    if span.kind in _MODEL_KINDS:
        parts.extend(_model_parts(attrs, options.glyphs))
    if span.status == "ERROR":
        parts.append(style.red(_error_text(span)))
    return f"{timing}  {prefix}{'  '.join(parts)}"


def _model_parts(attrs: Mapping[str, Any], glyphs: Glyphs) -> list[str]:
    parts: list[str] = []
    model = _str(attrs, semconv.GEN_AI_RESPONSE_MODEL) or _str(attrs, semconv.GEN_AI_REQUEST_MODEL)
    if model:
        parts.append(clean(model))
    tokens_in = _int(attrs, semconv.GEN_AI_USAGE_INPUT_TOKENS)
    tokens_out = _int(attrs, semconv.GEN_AI_USAGE_OUTPUT_TOKENS)
    if tokens_in is not None or tokens_out is not None:
        parts.append(f"{fmt_tokens(tokens_in or 0)}{glyphs.arrow}{fmt_tokens(tokens_out or 0)} tok")
    cost = _float(attrs, semconv.OBS_USAGE_COST_USD)
    if cost:
        parts.append(fmt_cost(cost))
    return parts


def _error_text(span: SpanRecord) -> str:
    error_type = _str(span.attributes, semconv.ERROR_TYPE)
    message = span.status_message or _exception_message(span)
    if error_type and message and message.startswith(f"{error_type}:"):
        error_type = None  # the message already names it ("ValueError: ...")
    text = "ERROR"
    if error_type:
        text += f" {clean(error_type)}"
    if message:
        text += f"{':' if error_type else ''} {clean(message, max_len=_MESSAGE_WIDTH)}"
    return text


def _exception_message(span: SpanRecord) -> str | None:
    for event in span.events:
        if event.get("name") == "exception":
            attributes = event.get("attributes")
            if isinstance(attributes, dict):
                message = attributes.get("exception.message")
                if isinstance(message, str) and message:
                    return message
    return None


def _details(span: SpanRecord, options: TreeOptions) -> list[str]:
    attrs = span.attributes
    dot = f" {options.glyphs.dot} "
    details: list[str] = []
    if span.kind == SpanKind.AGENT.value:
        details.extend(_agent_details(attrs, dot))
    if span.kind == SpanKind.RETRIEVER.value:
        details.extend(_retrieval_details(attrs, dot))
    reason = _str(attrs, semconv.OBS_ORPHAN_REASON)
    if reason:
        details.append(f"orphaned: {clean(reason, max_len=_MESSAGE_WIDTH)}")
    if options.show_attributes:
        details.extend(
            f"{clean(key)} = {clean(_display(value), max_len=_VALUE_WIDTH)}"
            for key, value in sorted(attrs.items())
        )
    return details


def _agent_details(attrs: Mapping[str, Any], dot: str) -> list[str]:
    steps = _int(attrs, semconv.OBS_AGENT_STEP_COUNT) or 0
    limit = _int(attrs, semconv.OBS_AGENT_STEP_LIMIT)
    first = [f"steps {steps}/{limit}" if limit is not None else f"steps {steps}"]
    if attrs.get(semconv.OBS_AGENT_MAX_ITERATIONS_REACHED) is True:
        first.append("limit reached")
    stop = _str(attrs, semconv.OBS_AGENT_STOP_REASON)
    if stop:
        first.append(f"stop: {clean(stop, max_len=_MESSAGE_WIDTH)}")
    lines = [dot.join(first)]
    tools = _tool_calls(attrs)
    if tools:
        lines.append("tools: " + ", ".join(tools))
    total = _int(attrs, semconv.OBS_ROLLUP_TOTAL_TOKENS)
    rollup: list[str] = []
    if total:
        rollup.append(f"{fmt_tokens(total)} tokens")
    cost = _float(attrs, semconv.OBS_ROLLUP_COST_USD)
    if cost:
        rollup.append(fmt_cost(cost))
    llm_calls = _int(attrs, semconv.OBS_ROLLUP_LLM_CALLS)
    if llm_calls:
        rollup.append(f"{llm_calls} model calls")
    if rollup:
        lines.append("total: " + dot.join(rollup))
    return lines


def _tool_calls(attrs: Mapping[str, Any]) -> list[str]:
    raw = attrs.get(semconv.OBS_AGENT_TOOL_CALLS)
    try:
        stats = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        return [clean(raw, max_len=_VALUE_WIDTH)] if isinstance(raw, str) else []
    if not isinstance(stats, dict):
        return []
    out: list[str] = []
    for name, entry in stats.items():
        if not isinstance(entry, dict):
            continue
        count = entry.get("count")
        errors = entry.get("errors")
        calls = count if isinstance(count, int) else 0
        text = f"{clean(name, max_len=40)} {calls} call{'s' if calls != 1 else ''}"
        if isinstance(errors, int) and errors:
            text += f" ({errors} failed)"
        out.append(text)
    return out


def _retrieval_details(attrs: Mapping[str, Any], dot: str) -> list[str]:
    count = _int(attrs, semconv.OBS_RETRIEVAL_DOCUMENT_COUNT)
    raw_scores = attrs.get(semconv.OBS_RETRIEVAL_SCORES)
    scores = [
        s for s in (raw_scores if isinstance(raw_scores, list) else [])
        if isinstance(s, (int, float)) and not isinstance(s, bool)
    ]
    parts: list[str] = []
    if count is not None:
        parts.append(f"{count} document{'s' if count != 1 else ''}")
    if scores:
        shown = " ".join(f"{s:.3f}" for s in scores[:_MAX_SCORES])
        more = f" (+{len(scores) - _MAX_SCORES} more)" if len(scores) > _MAX_SCORES else ""
        parts.append(f"scores {shown}{more}")
    return [dot.join(parts)] if parts else []


def _display(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _str(attrs: Mapping[str, Any], key: str) -> str | None:
    value = attrs.get(key)
    return value if isinstance(value, str) and value else None


def _int(attrs: Mapping[str, Any], key: str) -> int | None:
    value = attrs.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value)


def _float(attrs: Mapping[str, Any], key: str) -> float | None:
    value = attrs.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)
