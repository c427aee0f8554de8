"""The record kept for each open LlamaIndex dispatcher span, and walks over their tree."""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

from obs_core.spans import SpanKind
from obs_llamaindex._agents import Flow

PENDING, HIDDEN, VISIBLE = 0, 1, 2
"""Not judged yet (no run); a hidden run (plumbing with children); a visible run (a span)."""
MAX_DEPTH = 64


@dataclass(slots=True, eq=False)
class SpanRecord:
    """One open dispatcher span and what it has become so far."""

    id: str
    parent: SpanRecord | None
    instance: Any
    qualname: str
    start_ns: int
    in_workflow: bool
    state: int = PENDING
    kind: SpanKind | None = None
    run_parent: str | None = None
    """The run to attach to instead of the dispatcher parent (an agent's turn in a workflow)."""
    flow: Flow | None = None
    """On a workflow run span: the run's state. On its steps: the run they belong to."""
    step_event: Any = None
    cancelled: bool = False
    end_seen: bool = False
    response: Any = None
    first_chunk_seen: bool = False
    finish_reasons: list[str] | None = None
    streaming: bool = False
    """A streamed model call whose method returned: it ends with its stream."""
    finalizer: weakref.finalize | None = None  # type: ignore[type-arg]


def run_parent(span: SpanRecord) -> str | None:
    """The run a span's own run attaches to."""
    if span.run_parent is not None:
        return span.run_parent
    return span.parent.id if span.parent is not None else None


def visible_ancestor(span: SpanRecord) -> SpanRecord | None:
    """The nearest enclosing span that became a visible run."""
    node, depth = span.parent, 0
    while node is not None and depth < MAX_DEPTH:
        if node.state == VISIBLE:
            return node
        node, depth = node.parent, depth + 1
    return None


def is_stream(result: Any) -> bool:
    """A generator LlamaIndex handed out for a streamed call (never consumed here)."""
    return hasattr(result, "__next__") or hasattr(result, "__anext__")
