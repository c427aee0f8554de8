"""The trace store contract: what the exporter writes into and what the CLI and dashboard read.

A store keeps finished spans (:class:`~obs_core.spans.SpanRecord`) and, per trace, a
:class:`TraceSummary` kept up to date as spans arrive, so listing many traces never has to
read their spans.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from obs_core.spans import SpanRecord


class TraceStatus(str, Enum):
    OK = "OK"
    """No span of the trace ended in error."""
    ERROR = "ERROR"
    """At least one span ended in error (even if the run recovered from it)."""


class TraceSort(str, Enum):
    """Orders :meth:`TraceStore.list_traces` can return."""

    START = "start"
    DURATION = "duration"
    TOKENS = "tokens"
    COST = "cost"


class StoreClosedError(RuntimeError):
    """The store was used after :meth:`TraceStore.close`."""


class TraceSummary(BaseModel):
    """One trace at a glance, maintained by the store as its spans arrive."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    trace_id: str
    root_span_id: str
    root_name: str
    """The span without a parent if the store has it, else the ``obs.root`` span, else the
    earliest span: a trace may begin in another process or in the user's own code."""
    root_kind: str | None = None
    start_time_ns: int
    end_time_ns: int
    span_count: int
    input_tokens: int = 0
    """Summed over model spans (``llm``, ``embedding``) only, so roll-ups are not counted twice."""
    output_tokens: int = 0
    cost_usd: float = 0.0
    error_count: int = 0
    status: TraceStatus = TraceStatus.OK
    agent_steps: int = 0
    """Model calls made by agent loops, summed over agent spans."""
    agent_step_limit: int | None = None
    """The largest step limit any agent of the trace declared."""
    agent_limit_hit: bool = False
    models: tuple[str, ...] = ()
    session_id: str | None = None
    """``obs.session.id`` or ``gen_ai.conversation.id``."""
    pipeline_version: str | None = None
    service_name: str | None = None

    @property
    def duration_ns(self) -> int:
        return self.end_time_ns - self.start_time_ns

    @property
    def duration_ms(self) -> float:
        return self.duration_ns / 1e6

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


class TraceFilter(BaseModel):
    """Which traces to list and in what order. Every field is optional; ``None`` = no filter."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    since_ns: int | None = None
    """Traces that started at or after this time (ns since the epoch)."""
    until_ns: int | None = None
    """Traces that started before this time."""
    status: TraceStatus | None = None
    name_contains: str | None = None
    """Case-insensitive substring of the root span name (taken literally, no wildcards)."""
    model: str | None = None
    """Exact request or response model name used by any model span."""
    session_id: str | None = None
    pipeline_version: str | None = None
    limit_hit_only: bool = False
    min_duration_ns: int | None = None
    failed_evaluators: tuple[str, ...] = ()
    """Only traces that one of these evaluators scored as failed (``passed`` false), e.g. the
    hallucination checks; empty = no such filter. Unscored results do not count."""
    include_evaluations: bool = False
    """Also list the traces that hold nothing but an evaluation result (``evaluate X``). They
    are left out by default: their results already sit beside the traces they judge."""
    sort: TraceSort = TraceSort.START
    descending: bool = True
    limit: int = Field(default=50, ge=0, le=100_000)
    offset: int = Field(default=0, ge=0)


@runtime_checkable
class TraceStore(Protocol):
    """Where finished spans go. Implementations must be safe to call from several threads."""

    def write(self, records: Sequence[SpanRecord]) -> None:
        """Store a batch atomically and refresh the summaries of the traces it touches.

        Called off the application thread by the exporter; may raise on I/O failure (the
        exporter contains it). Writing a span again replaces it.
        """
        ...

    def list_traces(self, trace_filter: TraceFilter | None = None) -> list[TraceSummary]: ...

    def count_traces(self, trace_filter: TraceFilter | None = None) -> int:
        """How many traces match, ignoring ``sort``, ``limit`` and ``offset``."""
        ...

    def get_summary(self, trace_id: str) -> TraceSummary | None: ...

    def get_trace(self, trace_id: str) -> list[SpanRecord]:
        """Every stored span of the trace, by start time; empty if unknown."""
        ...

    def trace_ids_with_prefix(self, prefix: str, *, limit: int = 10) -> list[str]:
        """Trace ids starting with ``prefix``, so people can type a short id."""
        ...

    def purge(self, older_than_ns: int) -> int:
        """Delete traces that ended before ``older_than_ns``; returns how many."""
        ...

    def close(self) -> None: ...


class NullTraceStore:
    """A store that keeps nothing: the default when local storage is switched off."""

    def write(self, records: Sequence[SpanRecord]) -> None:
        return None

    def list_traces(self, trace_filter: TraceFilter | None = None) -> list[TraceSummary]:
        return []

    def count_traces(self, trace_filter: TraceFilter | None = None) -> int:
        return 0

    def get_summary(self, trace_id: str) -> TraceSummary | None:
        return None

    def get_trace(self, trace_id: str) -> list[SpanRecord]:
        return []

    def trace_ids_with_prefix(self, prefix: str, *, limit: int = 10) -> list[str]:
        return []

    def purge(self, older_than_ns: int) -> int:
        return 0

    def close(self) -> None:
        return None
