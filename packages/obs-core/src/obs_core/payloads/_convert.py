"""FinishedRun → PayloadRecord: pure functions, run on the payload writer thread.

The order matters and is the privacy contract of ``redacted`` mode: make JSON-like, clean
text, hash the raw prompt, scrub, and only then cut to size. The result is the only form of
the payload that ever reaches a store, a blob or the event log; if any step raises, the caller
drops the run (counted) rather than writing something half-processed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Literal, Protocol

from obs_core import _selfmetrics
from obs_core._values import to_jsonable
from obs_core.payloads._blobs import PayloadLimiter
from obs_core.payloads._hashing import PromptHasher
from obs_core.payloads.record import PayloadDocument, PayloadRecord, from_unix_ns
from obs_core.runs import FinishedRun
from obs_core.spans import SpanKind

CAPTURED_KINDS = frozenset({SpanKind.LLM, SpanKind.TOOL, SpanKind.RETRIEVER, SpanKind.RERANKER,
                            SpanKind.EMBEDDING})
"""Runs whose payloads are worth keeping; chains and agents only repeat their children's."""
_DOCUMENT_KINDS = frozenset({SpanKind.RETRIEVER, SpanKind.RERANKER})
"""Runs whose results are documents: kept once, as documents with their scores."""

_MAX_ITEMS = 1_000


class SupportsScrub(Protocol):
    """What capture needs from the shared scrubber (:class:`obs_core.payloads.Scrubber`)."""

    def scrub(self, text: str) -> str: ...

    def scrub_value(self, obj: Any) -> Any: ...


class TraceScrubbers:
    """One scrub session per trace, so ``<EMAIL_1>`` means the same address in every record of
    a trace. A session is released when its trace's root run has been converted (the root ends
    last); besides, only the sessions of the most recent ``max_traces`` traces are kept, for
    traces whose root never ends here. A trace whose runs end further apart than that starts
    numbering afresh, which stays correct, only less linked.
    """

    def __init__(self, scrubber: SupportsScrub, *, max_traces: int = 256) -> None:
        self._scrubber = scrubber
        self._max = max_traces
        self._sessions: OrderedDict[str, SupportsScrub] = OrderedDict()
        self._lock = threading.Lock()

    def for_trace(self, trace_id: str) -> SupportsScrub:
        session_factory = getattr(self._scrubber, "session", None)
        if not callable(session_factory):
            return self._scrubber  # a plain scrubber without numbered placeholders
        with self._lock:
            session = self._sessions.get(trace_id)
            if session is None:
                session = session_factory()
                self._sessions[trace_id] = session
                if len(self._sessions) > self._max:
                    self._sessions.popitem(last=False)
            else:
                self._sessions.move_to_end(trace_id)
            return session

    def release(self, trace_id: str) -> None:
        """Forget ``trace_id``'s session: its trace has ended."""
        with self._lock:
            self._sessions.pop(trace_id, None)

    def __len__(self) -> int:
        return len(self._sessions)


def build_record(
    run: FinishedRun,
    *,
    mode: Literal["redacted", "full"],
    scrubber: SupportsScrub | None,
    hasher: PromptHasher,
    limiter: PayloadLimiter,
) -> PayloadRecord | None:
    """The record to store for ``run``, or ``None`` (counted) when it cannot be keyed."""
    if not run.trace_id or not run.span_id:
        # Without ids the record can neither be found from its trace nor written
        # idempotently; the recorder only leaves them empty for spans that were not recorded.
        _selfmetrics.count_drop("payload_missing_id")
        return None
    if mode == "redacted" and scrubber is None:
        raise ValueError("redacted capture needs a scrubber")
    kind = run.kind
    end = run.end
    raw_input = None if run.start.inputs is None else storable(run.start.inputs)
    prompt_hash = hasher.hash(raw_input)
    keep_input = raw_input if kind is not SpanKind.EMBEDDING else None
    raw_output: Any = None
    documents: list[dict[str, Any]] = []
    if end is not None and kind is not SpanKind.EMBEDDING:
        if end.documents is not None:
            documents = [storable(d.model_dump()) for d in end.documents]
        if end.outputs is not None and not (kind in _DOCUMENT_KINDS and end.documents):
            raw_output = storable(end.outputs)
    error_message = _clean_text(run.error_message) if run.error_message else None
    session_id = run.conversation_id

    if mode == "redacted" and scrubber is not None:
        keep_input = scrubber.scrub_value(keep_input) if keep_input is not None else None
        raw_output = scrubber.scrub_value(raw_output) if raw_output is not None else None
        documents = [_scrub_document(d, scrubber) for d in documents]
        error_message = scrubber.scrub(error_message) if error_message else None
        session_id = scrubber.scrub(session_id) if session_id else None

    key = f"{run.trace_id}-{run.span_id}"
    cut = False
    keep_input, was_cut = limiter.limit(keep_input, key=f"{key}-input")
    cut |= was_cut
    raw_output, was_cut = limiter.limit(raw_output, key=f"{key}-output")
    cut |= was_cut
    docs: list[PayloadDocument] = []
    for index, doc in enumerate(documents):
        content, was_cut = limiter.limit(doc.get("content"), key=f"{key}-doc{index}")
        cut |= was_cut
        docs.append(_document(doc, content))

    usage = end.usage if end is not None else None
    return PayloadRecord(
        trace_id=run.trace_id,
        span_id=run.span_id,
        parent_span_id=run.parent_span_id,
        kind=kind.value,
        name=run.name,
        model=(end.response_model if end is not None else None) or run.start.model,
        provider=run.start.provider,
        input_tokens=usage.input_tokens if usage is not None else None,
        output_tokens=usage.output_tokens if usage is not None else None,
        total_tokens=usage.total if usage is not None else None,
        cost_usd=run.cost_usd,
        timestamp=from_unix_ns(run.start_time_unix_ns),
        duration_ms=run.duration_s * 1000.0,
        status="error" if run.error_type is not None or end is None else "ok",
        error_type=run.error_type,
        error_message=error_message,
        session_id=session_id,
        user_cohort=run.user_cohort,
        pipeline_version=run.pipeline_version,
        capture=mode,
        input=keep_input,
        output=raw_output,
        documents=docs,
        embedding_input_count=end.embedding_input_count if end is not None else None,
        embedding_dimensions=end.embedding_dimensions if end is not None else None,
        prompt_hash=prompt_hash,
        truncated=cut,
    )


def _scrub_document(doc: dict[str, Any], scrubber: SupportsScrub) -> dict[str, Any]:
    out = dict(doc)
    content = out.get("content")
    if content is not None:
        out["content"] = scrubber.scrub(content) if isinstance(content, str) else (
            scrubber.scrub_value(content))
    out["metadata"] = scrubber.scrub_value(out.get("metadata") or {})
    if isinstance(out.get("id"), str):
        out["id"] = scrubber.scrub(out["id"])  # ids are sometimes file paths or e-mail subjects
    return out


def _document(doc: dict[str, Any], content: Any) -> PayloadDocument:
    score = doc.get("score")
    metadata = doc.get("metadata")
    doc_id = doc.get("id")
    return PayloadDocument(
        id=doc_id if isinstance(doc_id, str) else None,
        score=float(score) if isinstance(score, (int, float)) else None,
        content=content,
        metadata=metadata if isinstance(metadata, dict) else {},
    )


def storable(value: Any) -> Any:
    """A JSON-like copy of ``value`` (see :func:`~obs_core._values.to_jsonable`) with every
    string storable anywhere: lone surrogates (which UTF-8 cannot encode) and NUL characters
    (which PostgreSQL text and jsonb reject) replaced. One walk does both."""
    return to_jsonable(value, max_items=_MAX_ITEMS, text=_clean_text)


def _clean_text(text: str) -> str:
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = text.encode("utf-8", "replace").decode("utf-8")
    return text
