"""What integrations tell the recorder: the start, end and outcome of one run.

A *run* is one unit of framework work (a chain step, a model call, a tool call...) identified by
the framework's own run id. Integrations build these records with small pure functions and hand
them to :class:`obs_core.Recorder`; the recorder owns everything after that.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any, Protocol

from obs_core.spans import RetrievedDocument, SpanKind, TokenUsage

RunId = Hashable
"""Any hashable id the framework uses for a run (LangChain UUIDs, LlamaIndex span ids...)."""


@dataclass(kw_only=True, slots=True)
class RunStart:
    """The facts known when a run starts.

    A plain dataclass rather than a pydantic model: integrations build one per framework event
    on the application's thread, and construction cost is tracing overhead.
    """

    kind: SpanKind
    name: str
    """Runnable, node, tool, agent or retriever name; models use the model name."""
    operation: str | None = None
    """Overrides ``gen_ai.operation.name`` (e.g. ``text_completion``, ``invoke_workflow``)."""
    provider: str | None = None
    """``gen_ai.provider.name`` (``openai``, ``anthropic``...)."""
    model: str | None = None
    """Requested model (``gen_ai.request.model``)."""
    request_params: dict[str, Any] = field(default_factory=dict)
    """Generation parameters by their GenAI name without prefix: ``temperature``, ``top_p``,
    ``top_k``, ``max_tokens``, ``stop_sequences``, ``seed``, ``frequency_penalty``,
    ``presence_penalty``, ``choice.count``, ``stream``."""
    tool_call_id: str | None = None
    tool_description: str | None = None
    tool_type: str | None = None
    agent_step_limit: int | None = None
    """``max_iterations`` / ``recursion_limit`` when the framework tells it."""
    data_source: str | None = None
    """Retriever or vector store name (``gen_ai.data_source.id``)."""
    conversation_id: str | None = None
    user_id: str | None = None
    user_cohort: str | None = None
    pipeline_version: str | None = None
    tags: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    """Scalar values become ``obs.metadata.<key>`` attributes."""
    attributes: dict[str, Any] = field(default_factory=dict)
    """Extra span attributes, already under their final keys."""
    inputs: Any = None
    """Payload: messages, prompt, tool arguments or query. Never put on spans unless content
    capture asks for it, and then scrubbed."""
    hidden: bool = False
    """Framework plumbing: no span; children attach to the nearest visible ancestor."""
    start_time_ns: int | None = None


@dataclass(kw_only=True, slots=True)
class RunEnd:
    """The facts known when a run finishes successfully."""

    usage: TokenUsage | None = None
    response_id: str | None = None
    response_model: str | None = None
    finish_reasons: list[str] = field(default_factory=list)
    documents: list[RetrievedDocument] | None = None
    embedding_dimensions: int | None = None
    embedding_input_count: int | None = None
    cached_response: bool = False
    """The answer came from a response cache: no tokens were billed."""
    stop_reason: str | None = None
    """Agents: why the loop stopped (``final_answer``, ``max_iterations``...)."""
    max_iterations_reached: bool | None = None
    """Agents: the loop stopped because it hit its step limit (an early, graceful stop)."""
    attributes: dict[str, Any] = field(default_factory=dict)
    outputs: Any = None
    """Payload: response messages, tool result, documents. Same rules as ``RunStart.inputs``."""
    end_time_ns: int | None = None


@dataclass(kw_only=True, slots=True)
class FinishedRun:
    """Handed to every :class:`RunObserver` when a run ends; read-only by convention."""

    run_id: Any
    trace_id: str
    """32 hex digits; empty when the span was not sampled."""
    span_id: str
    parent_span_id: str | None
    kind: SpanKind
    name: str
    start: RunStart
    end: RunEnd | None
    """``None`` when the run failed or was swept as an orphan."""
    error_type: str | None = None
    error_message: str | None = None
    duration_s: float
    cost_usd: float | None = None
    start_time_unix_ns: int
    is_root: bool
    """The first obs run of its trace in this process."""
    conversation_id: str | None = None
    user_id: str | None = None
    user_cohort: str | None = None
    pipeline_version: str | None = None
    """Identity fields, inherited from the nearest ancestor that set them."""


class RunObserver(Protocol):
    """Something that wants every finished run: payload capture, evaluation hand-off.

    Called on the framework's callback thread, after the span ended: it must not block (enqueue
    and return) and should not raise; the recorder guards it all the same. An observer that
    only wants some kinds of runs may say so with a ``run_kinds`` attribute (a set of
    :class:`~obs_core.spans.SpanKind`); the recorder then skips building the record for runs
    no observer wants.
    """

    def on_run_end(self, run: FinishedRun) -> None: ...
