"""The run observer that feeds the payload log.

``on_run_end`` runs on the framework's callback thread, so it only checks the run kind and
hands the :class:`~obs_core.runs.FinishedRun` to the writer queue. Serialising, hashing,
scrubbing, size limiting and storing all happen on the writer thread; the record built there is
the only form of the payload that reaches a store, a blob or the event log.

Because the run is read later, on another thread, integrations must hand over payloads they no
longer mutate (they convert framework objects into fresh JSON-like values, which satisfies this).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Literal

from obs_core import _selfmetrics
from obs_core.payloads._blobs import PayloadLimiter, sweep_blobs
from obs_core.payloads._convert import (
    CAPTURED_KINDS,
    SupportsScrub,
    TraceScrubbers,
    build_record,
)
from obs_core.payloads._eventlog import PayloadEventLog
from obs_core.payloads._hashing import PromptHasher
from obs_core.payloads._writer import PayloadWriter
from obs_core.payloads.record import PayloadRecord
from obs_core.payloads.store import PayloadStore
from obs_core.runs import FinishedRun

logger = logging.getLogger("obs.payloads")

_TRACE_ID_LOW_RANGE = 2**64


class PayloadCapture:
    """Records the payloads of model, tool, retriever, reranker and embedding runs (a
    :class:`~obs_core.runs.RunObserver`).

    ``mode`` is ``redacted`` (every text passes ``scrubber`` first; a scrubber failure drops the
    record, it never falls back to raw text) or ``full``. Use :func:`build_capture` to get one
    from :class:`PayloadSettings`; the constructor is for wiring your own store.
    """

    run_kinds = CAPTURED_KINDS
    """The recorder only builds finished-run records for these kinds on our account."""

    def __init__(
        self,
        *,
        store: PayloadStore | None,
        hasher: PromptHasher,
        mode: Literal["redacted", "full"] = "redacted",
        scrubber: SupportsScrub | None = None,
        limiter: PayloadLimiter | None = None,
        event_log: PayloadEventLog | None = None,
        ttl: timedelta | None = timedelta(days=30),
        max_buffered: int = 10_000,
        sample_rate: float = 1.0,
        batch_size: int = 256,
        flush_interval_s: float = 1.0,
        retry_initial_s: float = 0.5,
        retry_max_s: float = 30.0,
        purge_interval_s: float = 3600.0,
    ) -> None:
        if mode not in ("redacted", "full"):
            raise ValueError(f"capture mode must be 'redacted' or 'full', got {mode!r}")
        if mode == "redacted" and scrubber is None:
            raise ValueError("redacted capture needs a scrubber")
        if not 0.0 <= sample_rate <= 1.0:
            raise ValueError(f"sample_rate must be between 0 and 1, got {sample_rate}")
        self.mode = mode
        self.store = store
        self.sample_rate = sample_rate
        self._sample_bound = round(sample_rate * _TRACE_ID_LOW_RANGE)
        self.ttl = ttl
        self._event_log = event_log
        self._limiter = limiter or PayloadLimiter(max_bytes=256 * 1024)
        self._mode: Literal["redacted", "full"] = mode
        self._hasher = hasher
        self._scrubbers = TraceScrubbers(scrubber) if scrubber is not None else None
        self._writer: PayloadWriter[FinishedRun] = PayloadWriter(
            convert=self.build,
            store=store,
            sinks=(event_log.emit,) if event_log is not None else (),
            max_queue=max_buffered,
            max_pending=max_buffered,
            batch_size=batch_size,
            flush_interval_s=flush_interval_s,
            retry_initial_s=retry_initial_s,
            retry_max_s=retry_max_s,
            maintenance=self.purge_expired if ttl is not None else None,
            maintenance_interval_s=purge_interval_s,
            prepare=getattr(scrubber, "warm_up", None) if mode == "redacted" else None,
        )
        _selfmetrics.register_gauge("payload_queue_depth", self._writer.queue_depth)
        _selfmetrics.register_gauge("payload_pending_records", self._writer.pending_count)

    def __repr__(self) -> str:
        return f"PayloadCapture(mode={self.mode!r}, store={self.store!r})"

    def on_run_end(self, run: FinishedRun) -> None:
        """Called on the callback thread: filter by kind and sampled trace, enqueue, nothing
        else."""
        if run.kind in CAPTURED_KINDS and (self.sample_rate == 1.0 or self.samples(run.trace_id)):
            self._writer.submit(run)

    def samples(self, trace_id: str) -> bool:
        """Whether the payloads of ``trace_id`` (32 hex digits) are captured at this rate: its
        lower 64 bits below the rate's share of their range, OpenTelemetry's ratio rule. A
        malformed id is captured, and the record builder counts it."""
        try:
            return int(trace_id[-16:], 16) < self._sample_bound
        except ValueError:
            return True

    def build(self, run: FinishedRun) -> PayloadRecord | None:
        """The record for ``run``: what the writer thread stores, callable directly by tools
        and tests. Records of one trace share numbered placeholders (``<EMAIL_1>``)."""
        scrubbers = self._scrubbers
        if scrubbers is None:
            return build_record(run, mode=self._mode, hasher=self._hasher,
                                limiter=self._limiter, scrubber=None)
        try:
            return build_record(run, mode=self._mode, hasher=self._hasher,
                                limiter=self._limiter, scrubber=scrubbers.for_trace(run.trace_id))
        finally:
            if run.is_root and run.parent_span_id is None:
                # The trace itself is over (not just obs's part of someone else's trace): its
                # placeholder numbering is no longer needed.
                scrubbers.release(run.trace_id)

    def scrubber_for_trace(self, trace_id: str) -> SupportsScrub | None:
        """The scrubber this capture uses for ``trace_id``'s records (``None`` in ``full``
        mode). Give it to the recorder as ``RecorderSettings.scrub_for_trace`` and content on
        spans gets the same numbered placeholders as the stored records of the trace."""
        scrubbers = self._scrubbers
        return scrubbers.for_trace(trace_id) if scrubbers is not None else None

    @property
    def trace_sessions(self) -> int:
        """Per-trace scrub sessions held now: released when a trace's root is converted,
        bounded for traces whose root is not a captured kind."""
        return len(self._scrubbers) if self._scrubbers is not None else 0

    @property
    def store_available(self) -> bool:
        """``False`` while the store is failing and records are being buffered."""
        return self._writer.store_available

    def purge_expired(self, *, now: datetime | None = None) -> int:
        """Apply the TTL to the store and the blob directory; called by the writer every
        purge interval. Returns the number of rows deleted one by one."""
        if self.ttl is None:
            return 0
        cutoff = (now or datetime.now(timezone.utc)) - self.ttl
        deleted = 0
        if self.store is not None:
            deleted = self.store.purge(older_than=cutoff).deleted_rows
        blob_dir: Path | None = self._limiter.blob_dir
        if blob_dir is not None:
            sweep_blobs(blob_dir, older_than=cutoff)
        return deleted

    def flush(self, timeout: float = 5.0) -> bool:
        """Write everything captured so far; ``False`` if that did not finish in time."""
        flushed = self._writer.flush(timeout)
        if self._event_log is not None:
            self._event_log.flush()
        return flushed

    def close(self, timeout: float = 5.0) -> bool:
        """Flush, stop the writer and release the store; unwritten records are counted as
        dropped. Safe to call twice."""
        done = self._writer.close(timeout)
        if self._event_log is not None:
            self._event_log.close()
        return done
