"""What the handler remembers about each open LangChain run, beyond what the recorder keeps.

The recorder owns spans; this table only holds the facts routing needs later (the enclosing
agent, whether a run is a LangGraph task, whether a model already streamed). Entries leave with
their run's end or error; runs the framework never ends are pruned once the recorder has swept
them, so the table stays bounded.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from obs_core import Recorder, SpanKind
from obs_langchain._agents import AgentRun

_PRUNE_AT = 4096


@dataclass(slots=True, eq=False)
class Tracked:
    kind: SpanKind
    name: str
    agent: AgentRun | None
    """The nearest enclosing agent run; for an agent run, itself."""
    is_agent: bool = False
    hidden: bool = False
    is_task: bool = False
    """A LangGraph task (a node run of a graph step)."""
    streamed: bool = False


class RunTable:
    """Thread-safe by construction: single dict operations only, pruning under a lock."""

    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder
        self._runs: dict[Any, Tracked] = {}
        self._lock = threading.Lock()
        self._prune_at = _PRUNE_AT

    def __len__(self) -> int:
        return len(self._runs)

    def add(self, run_id: Any, tracked: Tracked) -> None:
        self._runs[run_id] = tracked
        if len(self._runs) > self._prune_at:
            self._prune()

    def get(self, run_id: Any) -> Tracked | None:
        return self._runs.get(run_id) if run_id is not None else None

    def pop(self, run_id: Any) -> Tracked | None:
        return self._runs.pop(run_id, None)

    def _prune(self) -> None:
        with self._lock:
            if len(self._runs) <= self._prune_at:
                return
            for run_id in list(self._runs):
                if not self._recorder.is_open(run_id):
                    self._runs.pop(run_id, None)
            self._prune_at = max(_PRUNE_AT, 2 * len(self._runs))
