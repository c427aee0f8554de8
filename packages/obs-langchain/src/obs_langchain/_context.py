"""Making a run's span current while the run works, without leaking it to its siblings.

LangChain emits a run's start event in the context where the run's work then executes, so the
span is activated there (``Recorder.activate``) and spans opened by the work (a user's own span,
an HTTP client instrumentation) nest under it. Batches are the exception: ``RunnableSequence
.batch``/``abatch`` and ``generate`` with several prompts start *all* their runs in a row in the
caller's context, then do the work elsewhere. Activating each of those would stack them, and the
second batch item would become a child of the first. So a start is *stacked* when the run
activated last in this very thread or task is still open and is not one of the new run's
ancestors: it is not activated, and a stacked root takes the context from before that earlier
activation as its parent, as if the earlier sibling were not there.
"""

from __future__ import annotations

import asyncio
import threading
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from opentelemetry import context as otel_context

from obs_core.integration import Recorder, RunStart
from obs_langchain._runs import RunTable

_MAX_ANCESTORS = 64


@dataclass(frozen=True, slots=True)
class _Activation:
    run_id: Any
    owner: tuple[int, int]
    outer: otel_context.Context
    """The OpenTelemetry context as it was before this activation."""


_last: ContextVar[_Activation | None] = ContextVar("obs_langchain_last_activation", default=None)


def _owner() -> tuple[int, int]:
    try:
        task = asyncio.current_task()
    except RuntimeError:
        task = None
    return threading.get_ident(), id(task) if task is not None else 0


class Activations:
    """Starts runs on the recorder and activates them where that is safe."""

    def __init__(self, recorder: Recorder, runs: RunTable) -> None:
        self._recorder = recorder
        self._runs = runs

    def _is_ancestor(self, candidate: Any, parent_run_id: Any) -> bool:
        run_id = parent_run_id
        for _ in range(_MAX_ANCESTORS):
            if run_id is None:
                return False
            if run_id == candidate:
                return True
            tracked = self._runs.get(run_id)
            run_id = tracked.parent_id if tracked is not None else None
        return False

    def start(self, run_id: Any, parent_run_id: Any, start: RunStart, *,
              activate: bool = True) -> None:
        """Start the run; make its span current unless the start is stacked or ``activate``
        is false. Call :meth:`RunTable.add` first so descendants can find their ancestors."""
        last = _last.get()
        owner = _owner()
        stacked = (last is not None and last.owner == owner
                   and self._recorder.is_open(last.run_id)
                   and not self._is_ancestor(last.run_id, parent_run_id))
        if not stacked:
            self._recorder.start(run_id, parent_run_id, start)
            if activate:
                outer = otel_context.get_current()
                self._recorder.activate(run_id)
                _last.set(_Activation(run_id, owner, outer))
            return
        if parent_run_id is not None and self._recorder.is_open(parent_run_id):
            self._recorder.start(run_id, parent_run_id, start)
            return
        assert last is not None
        token = otel_context.attach(last.outer)
        try:
            self._recorder.start(run_id, parent_run_id, start)
        finally:
            otel_context.detach(token)
