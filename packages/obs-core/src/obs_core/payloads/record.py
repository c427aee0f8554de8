"""What the payload log keeps about one run: the record every store writes and reads back.

A :class:`PayloadRecord` is built on the payload writer thread from a
:class:`~obs_core.runs.FinishedRun`, already scrubbed (``redacted`` mode) and size-limited, so a
record that exists is always safe to write, log or print.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

CaptureMode = Literal["none", "redacted", "full"]
"""How much payload content obs keeps.

``none``
    No payload records at all (not even token metadata: the trace store already holds it on
    spans, and the prompt hash is derived from content the user asked us not to keep).
``redacted``
    Every text value passes through the shared scrubber before anything is queued for a store
    or a log. The default.
``full``
    Raw content, for users who explicitly opt in (their own data, a private deployment).
"""

TRUNCATED_KEY = "obs.truncated"
"""Marker of a value cut to the size limit: ``{"obs.truncated": {"original_bytes", "preview"}}``."""

BLOB_KEY = "obs.blob"
"""Marker of a value moved to the blob directory: ``{"obs.blob": {"path", "original_bytes"}}``."""


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PayloadDocument(_Record):
    """One retrieved (or reranked) document as the payload log keeps it."""

    id: str | None = None
    score: float | None = None
    content: Any = None
    """Text, or a truncation / blob marker when it exceeded the size limit."""
    metadata: dict[str, Any] = Field(default_factory=dict)


class PayloadRecord(_Record):
    """The payloads of one model, tool, retriever, reranker or embedding run, keyed by its span.

    ``(trace_id, span_id)`` is the identity: stores insert idempotently on it, so a batch
    retried after an outage never duplicates rows.
    """

    trace_id: str
    """32 hex digits, as on the span."""
    span_id: str
    """16 hex digits, as on the span."""
    parent_span_id: str | None = None
    kind: str
    """``llm``, ``tool``, ``retriever``, ``reranker`` or ``embedding``
    (:class:`~obs_core.spans.SpanKind`)."""
    name: str
    model: str | None = None
    """Model that answered (response model), else the requested one."""
    provider: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    total_tokens: int | None = None
    cost_usd: float | None = None
    timestamp: datetime
    """Start of the run, timezone-aware UTC. Drives the TTL."""
    duration_ms: float
    status: Literal["ok", "error"] = "ok"
    error_type: str | None = None
    error_message: str | None = None
    """Scrubbed like the payloads: exception messages quote user input surprisingly often."""
    session_id: str | None = None
    """The run's conversation id."""
    user_cohort: str | None = None
    pipeline_version: str | None = None
    capture: Literal["redacted", "full"] = "redacted"
    """The mode that wrote this record, so a reader knows whether to expect placeholders."""
    input: Any = None
    """Messages, prompt, tool arguments, or retrieval / rerank query (JSON-like)."""
    output: Any = None
    """Response messages or tool result. Retrievers and rerankers put their results in
    ``documents``."""
    documents: list[PayloadDocument] = Field(default_factory=list)
    embedding_input_count: int | None = None
    """Embedding runs keep how many texts were embedded, never the texts or vectors."""
    embedding_dimensions: int | None = None
    prompt_hash: str | None = None
    """Keyed HMAC-SHA256 (hex) of the raw, pre-scrub input: equal prompts hash equal on one
    installation, for de-duplication and cache analysis, without being guessable elsewhere."""
    truncated: bool = False
    """Some value was cut or moved to a blob because it exceeded the size limit."""

    @property
    def start_time_ns(self) -> int:
        return to_unix_ns(self.timestamp)


def to_unix_ns(moment: datetime) -> int:
    """Nanoseconds since the epoch of an aware (or UTC-naive) datetime, without float rounding."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    delta = moment - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def from_unix_ns(ns: int) -> datetime:
    """The UTC datetime of ``ns`` (microsecond precision, which is what both stores keep)."""
    seconds, rest = divmod(ns, 1_000_000_000)
    return datetime.fromtimestamp(seconds, tz=timezone.utc).replace(microsecond=rest // 1_000)
