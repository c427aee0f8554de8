"""Making a run's span current while the run works, without leaking it to its siblings.

LangChain emits a run's start event in the context where the run's work then executes, so the
span is activated there (``Recorder.activate``) and spans opened by the work (a user's own span,
an HTTP client instrumentation) nest under it. Batches are the exception: ``RunnableSequence
.batch``/``abatch`` and ``generate`` with several prompts start *all* their top-level runs in a
row in the caller's context, then do the work elsewhere; so does a caller interleaving two
streams. Activating each would make the second batch item a child of the first. So a top-level
start is *stacked* when the run activated last in this very thread or task is a top-level run
that is still open: the new run is not activated, and takes the context from before that earlier
activation as its parent, as if the earlier sibling were not there. Runs with a LangChain parent
are always activated: their parent comes from the framework, and in streaming pipelines
overlapping siblings are the norm (the later step does the work while the earlier one waits).

An activation made by a stream can outlive its run when the stream is finished from another
task: the recorder cannot undo it from there. A later top-level run then skips the ended span
and starts where the application's own context was when that chain began, so it never joins a
finished trace.
"""

from __future__ import annotations

import asyncio
import threading
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace

from obs_core.integration import Recorder, RunStart

_CHAIN_LIMIT = 32


@dataclass(slots=True)
class _Activation:
    """Never changed after creation (not ``frozen``: frozen dataclasses pay a
    ``object.__setattr__`` per field, on every run start)."""

    run_id: Any
    owner: tuple[int, int]
    top_level: bool
    outer: otel_context.Context
    """The OpenTelemetry context as it was before this activation."""
    base: otel_context.Context
    """The context before the first obs activation in this chain."""
    previous: _Activation | None
    """The nearest earlier activation whose run was still open (the chain stays short)."""


_last: ContextVar[_Activation | None] = ContextVar("obs_langchain_last_activation", default=None)


_NO_OWNER = (0, 0)
"""Owner of activations that are never compared by owner (runs with a LangChain parent)."""


def _owner() -> tuple[int, int]:
    # ``_get_running_loop`` answers ``None`` outside a loop where ``current_task`` would raise,
    # and raising costs more than everything else here in synchronous code.
    loop = asyncio._get_running_loop()
    task = asyncio.current_task(loop) if loop is not None else None
    return threading.get_ident(), id(task) if task is not None else 0


def _ended(span: Any) -> bool:
    return getattr(span, "end_time", None) is not None


class Activations:
    """Starts runs on the recorder and activates them where that is safe."""

    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder

    def _open(self, node: _Activation | None) -> _Activation | None:
        for _ in range(_CHAIN_LIMIT):
            if node is None or self._recorder.is_open(node.run_id):
                return node
            node = node.previous
        return None

    def _ambient(self, owner: tuple[int, int]) -> tuple[otel_context.Context | None, bool]:
        """The context a top-level run should start in when it is not the current one, and
        whether the start is stacked on a sibling (then it must not be activated)."""
        last = _last.get()
        if last is None:
            return None, False
        current = trace.get_current_span()
        if _ended(current):
            # A run that ended in another context (a stream finished by another task) could not
            # undo its activation here: skip to the nearest activation still open.
            node = self._open(last)
            if node is None:
                return last.base, False
            if node.top_level and node.owner == owner:
                return node.outer, True
            return self._recorder.context_of(node.run_id), False
        if (last.top_level and last.owner == owner and self._recorder.is_open(last.run_id)
                and current is self._recorder.span_of(last.run_id)):
            return last.outer, True
        return None, False

    def start(self, run_id: Any, parent_run_id: Any, start: RunStart, *,
              activate: bool = True) -> None:
        """Start the run; make its span current unless the start is stacked or ``activate``
        is false."""
        top_level = parent_run_id is None or not self._recorder.is_open(parent_run_id)
        # Only top-level activations are ever compared by owner (see ``_ambient``).
        owner = _owner() if top_level else _NO_OWNER
        ambient, stacked = self._ambient(owner) if top_level else (None, False)
        if ambient is None:
            self._recorder.start(run_id, parent_run_id, start)
        else:
            token = otel_context.attach(ambient)
            try:
                self._recorder.start(run_id, parent_run_id, start)
            finally:
                otel_context.detach(token)
        if activate and not stacked:
            last = _last.get()
            outer = otel_context.get_current()
            previous = self._open(last)
            self._recorder.activate(run_id)
            _last.set(_Activation(run_id=run_id, owner=owner, top_level=top_level, outer=outer,
                                  base=self._base(last, previous, outer), previous=previous))

    @staticmethod
    def _base(last: _Activation | None, previous: _Activation | None,
              outer: otel_context.Context) -> otel_context.Context:
        """Where this chain began. A chain still open carries its base along; once every run
        of the earlier chain has ended, a new chain begins where it is, unless what is current
        there is a leaked, ended span: then the leaked chain's base is the last good place."""
        if previous is not None:
            return previous.base
        if last is not None and _ended(trace.get_current_span(outer)):
            return last.base
        return outer
