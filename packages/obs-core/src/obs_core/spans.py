"""The span model: what obs records about one run, as public pydantic records.

Integrations describe runs with these types; the recorder turns them into OpenTelemetry spans; the
stores and the command line read them back as :class:`SpanRecord`. One vocabulary end to end.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class SpanKind(str, Enum):
    """What a run is. Recorded as ``obs.span.kind``; it also picks the GenAI operation name."""

    AGENT = "agent"
    CHAIN = "chain"
    LLM = "llm"
    TOOL = "tool"
    RETRIEVER = "retriever"
    EMBEDDING = "embedding"
    RERANKER = "reranker"
    EVALUATION = "evaluation"
    """An evaluator's verdict on another span: a root of its own, linked to what it judged.
    Never a recorder run; trace listings leave these out unless asked."""


class UsageSource(str, Enum):
    """Where token numbers came from, so dashboards can tell measured cost from guesses."""

    PROVIDER = "provider"
    """Reported by the model provider in its response."""
    ESTIMATED = "estimated"
    """Counted or approximated by obs or the framework."""
    MISSING = "missing"
    """No usage was available; the numbers are zero."""


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, validate_assignment=False)


class TokenUsage(_Record):
    """Token counts of one model call (or a roll-up of several)."""

    input_tokens: int = 0
    """Prompt tokens, including cached ones (as providers report them)."""
    output_tokens: int = 0
    """Completion tokens, including reasoning tokens."""
    total_tokens: int | None = None
    """As reported; ``None`` means input + output."""
    cache_read_tokens: int = 0
    """Input tokens served from the provider's prompt cache (billed at the cached rate)."""
    cache_write_tokens: int = 0
    """Input tokens written to the provider's prompt cache."""
    reasoning_tokens: int = 0
    """Output tokens spent on hidden reasoning."""
    source: UsageSource = UsageSource.PROVIDER

    @property
    def total(self) -> int:
        return self.total_tokens if self.total_tokens is not None else self.input_tokens + self.output_tokens


class RetrievedDocument(_Record):
    """One document a retriever returned."""

    id: str | None = None
    score: float | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    content: str | None = None
    """Only captured into payloads, never onto spans."""


class ToolCallStats(_Record):
    """How an agent used one tool."""

    count: int = 0
    errors: int = 0
    total_ms: float = 0.0
    max_ms: float = 0.0


class AgentSummary(_Record):
    """Everything obs knows about one agent run when it ends."""

    name: str
    step_count: int = 0
    """Model calls made by this agent's own loop (not by nested agents)."""
    step_limit: int | None = None
    """``max_iterations`` / ``recursion_limit`` when the framework tells it."""
    max_iterations_reached: bool = False
    stop_reason: str | None = None
    tool_calls: dict[str, ToolCallStats] = Field(default_factory=dict)
    usage: TokenUsage = Field(default_factory=TokenUsage)
    """Cumulative over every model call below the agent, nested agents included."""
    cost_usd: float = 0.0

    @property
    def tool_call_count(self) -> int:
        return sum(s.count for s in self.tool_calls.values())


class SpanRecord(_Record):
    """A finished span as the trace store keeps it and the command line shows it."""

    trace_id: str
    span_id: str
    parent_span_id: str | None = None
    name: str
    kind: str | None = None
    """``obs.span.kind``, or ``None`` for spans obs did not make (a user's own span)."""
    start_time_ns: int
    end_time_ns: int
    status: str = "UNSET"
    """``UNSET``, ``OK`` or ``ERROR``."""
    status_message: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    events: list[dict[str, Any]] = Field(default_factory=list)
    service_name: str | None = None

    @property
    def duration_ms(self) -> float:
        return (self.end_time_ns - self.start_time_ns) / 1e6
