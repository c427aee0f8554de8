"""The payload writer: one background thread between the callback thread and the store.

Two bounded buffers, both counted when they overflow:

* the *queue* of raw items handed over by the callback thread (``submit`` only appends);
* the *pending* records already converted (scrubbed) and waiting for the store. While the store
  is down they accumulate up to ``max_pending``; beyond that new records are dropped
  (``payload_store_unavailable``). Writes are retried with exponential backoff and resume by
  themselves when the store comes back; stores insert idempotently, so a batch whose
  acknowledgement was lost is simply written again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from obs_core import _guard, _selfmetrics
from obs_core.payloads.record import PayloadRecord
from obs_core.payloads.store import PayloadStore, PayloadStoreUnavailable

logger = logging.getLogger("obs.payloads")

T = TypeVar("T")


class PayloadWriter(Generic[T]):
    """Converts queued items with ``convert`` and writes the records to ``store`` in batches.

    ``convert`` runs on the writer thread; returning ``None`` skips an item, raising drops it
    (``payload_convert_failed``). ``sinks`` (such as the event log) see every converted record
    once, whatever happens to the store. ``maintenance`` (the TTL purge) runs on the writer
    thread right after start and then every ``maintenance_interval_s``. ``prepare`` runs once
    when the thread starts (loading the scrubber's data before the first payload needs it).
    """

    def __init__(
        self,
        *,
        convert: Callable[[T], PayloadRecord | None],
        store: PayloadStore | None,
        sinks: Sequence[Callable[[PayloadRecord], None]] = (),
        max_queue: int = 10_000,
        max_pending: int = 10_000,
        batch_size: int = 256,
        flush_interval_s: float = 1.0,
        retry_initial_s: float = 0.5,
        retry_max_s: float = 30.0,
        maintenance: Callable[[], object] | None = None,
        maintenance_interval_s: float = 3600.0,
        prepare: Callable[[], object] | None = None,
        name: str = "obs-payload-writer",
    ) -> None:
        self._convert = convert
        self._store = store
        self._sinks = tuple(sinks)
        self._max_queue = max_queue
        self._max_pending = max_pending
        self._batch_size = max(1, batch_size)
        self._flush_interval = flush_interval_s
        self._retry_initial = retry_initial_s
        self._retry_max = retry_max_s
        self._maintenance = maintenance
        self._maintenance_interval = maintenance_interval_s
        self._prepare = prepare

        self._cond = threading.Condition()
        self._queue: deque[T] = deque()
        self._pending: deque[PayloadRecord] = deque()
        self._unfinished = 0
        """Items submitted and not yet written or dropped; ``flush`` waits for zero."""
        self._stopping = False
        self._urgent = False
        self._retry_at = 0.0
        self._backoff = 0.0
        self._next_maintenance = 0.0
        self._store_down = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    # -- callback side ---------------------------------------------------------------------

    def submit(self, item: T) -> bool:
        """Hand ``item`` over; never blocks. ``False`` (and a counted drop) when full."""
        with self._cond:
            if self._stopping:
                _selfmetrics.count_drop("payload_after_close")
                return False
            if len(self._queue) >= self._max_queue:
                _selfmetrics.count_drop("payload_queue_full")
                return False
            self._queue.append(item)
            self._unfinished += 1
            if len(self._queue) >= self._batch_size:
                self._cond.notify_all()
        return True

    def queue_depth(self) -> int:
        return len(self._queue)

    def pending_count(self) -> int:
        return len(self._pending)

    @property
    def store_available(self) -> bool:
        """``False`` while the last write attempt failed."""
        return not self._store_down

    def flush(self, timeout: float = 5.0) -> bool:
        """Write everything submitted so far; ``True`` if it all reached the store (or was
        dropped with a count) within ``timeout``. An outage makes this wait, not fail fast:
        the flush also cuts the current retry backoff short."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._urgent = True
            self._retry_at = 0.0
            self._cond.notify_all()
            while self._unfinished > 0:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._thread.is_alive():
                    return False
                self._cond.wait(remaining)
            return True

    def close(self, timeout: float = 5.0) -> bool:
        """Flush, stop the thread and close the store. Whatever is still unwritten after
        ``timeout`` is dropped and counted (``payload_shutdown``)."""
        flushed = self.flush(timeout)
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(max(0.1, timeout))
        with self._cond:
            lost = len(self._queue) + len(self._pending)
            self._queue.clear()
            self._pending.clear()
            self._unfinished = 0
            self._cond.notify_all()
        if lost:
            _selfmetrics.count_drop("payload_shutdown", lost)
        if self._store is not None and not self._thread.is_alive():
            try:
                self._store.close()
            except Exception as exc:  # noqa: BLE001 - shutting down must not raise into the app
                _guard.report("payloads.store_close", exc)
        return flushed and lost == 0

    # -- writer thread ---------------------------------------------------------------------

    def _run(self) -> None:
        if self._prepare is not None:
            try:
                self._prepare()
            except Exception as exc:  # noqa: BLE001 - a failed warm-up only costs time later
                _guard.report("payloads.prepare", exc)
        while True:
            items, stopping = self._take()
            if items:
                self._accept(items)
            if self._pending and time.monotonic() >= self._retry_at:
                self._write_pending()
            if self._maintenance is not None and time.monotonic() >= self._next_maintenance:
                self._run_maintenance(self._maintenance)
            if stopping:
                with self._cond:
                    if not self._queue:
                        return

    def _take(self) -> tuple[list[T], bool]:
        """Wait for a full batch, a flush, the end of a backoff, maintenance, or the flush
        interval; then take up to one batch from the queue."""
        with self._cond:
            start = time.monotonic()
            while True:
                now = time.monotonic()
                if self._stopping or len(self._queue) >= self._batch_size:
                    break
                if self._urgent and (self._queue or (self._pending and now >= self._retry_at)):
                    break
                wake = start + self._flush_interval if self._queue else float("inf")
                if self._pending:
                    wake = min(wake, self._retry_at)
                if self._maintenance is not None:
                    wake = min(wake, self._next_maintenance)
                if now >= wake:
                    break
                self._cond.wait(min(wake - now, self._flush_interval))
            n = min(len(self._queue), self._batch_size)
            return [self._queue.popleft() for _ in range(n)], self._stopping

    def _run_maintenance(self, task: Callable[[], object]) -> None:
        self._next_maintenance = time.monotonic() + self._maintenance_interval
        try:
            task()
        except PayloadStoreUnavailable as exc:
            logger.debug("payload maintenance postponed: %s", exc)
            self._next_maintenance = time.monotonic() + min(self._maintenance_interval,
                                                            self._retry_max)
        except Exception as exc:  # noqa: BLE001 - maintenance failing must not stop writing
            _guard.report("payloads.maintenance", exc)

    def _accept(self, items: list[T]) -> None:
        """Convert, show to the sinks, and park for the store; all outside the lock."""
        settled = 0
        records: list[PayloadRecord] = []
        for item in items:
            try:
                record = self._convert(item)
            except Exception as exc:  # noqa: BLE001 - a bad item is dropped, never written raw
                _selfmetrics.count_drop("payload_convert_failed")
                _guard.report("payloads.convert", exc)
                record = None
            if record is None:
                settled += 1
                continue
            for sink in self._sinks:
                _show(sink, record)
            if self._store is None:
                settled += 1
            else:
                records.append(record)
        with self._cond:
            for record in records:
                if len(self._pending) >= self._max_pending:
                    _selfmetrics.count_drop("payload_store_unavailable")
                    settled += 1
                else:
                    self._pending.append(record)
            self._settle(settled)

    def _write_pending(self) -> None:
        store = self._store
        if store is None:
            return
        while self._pending:
            with self._cond:
                batch = [self._pending[i] for i in range(min(len(self._pending), self._batch_size))]
            try:
                store.write(batch)
            except PayloadStoreUnavailable as exc:
                self._on_outage(exc)
                return
            except Exception as exc:  # noqa: BLE001 - rejected data: isolate the bad records
                _guard.report("payloads.store_write", exc)
                if not self._write_one_by_one(store, batch):
                    return
            else:
                self._on_written(len(batch))

    def _write_one_by_one(self, store: PayloadStore, batch: list[PayloadRecord]) -> bool:
        for record in batch:
            try:
                store.write([record])
            except PayloadStoreUnavailable as exc:
                self._on_outage(exc)
                return False
            except Exception:  # noqa: BLE001 - this record is unwritable; count and move on
                _selfmetrics.count_drop("payload_rejected")
            self._on_written(1)
        return True

    def _on_written(self, n: int) -> None:
        if self._store_down:
            logger.info("payload store is reachable again; writing resumed")
        self._store_down = False
        self._backoff = 0.0
        with self._cond:
            for _ in range(min(n, len(self._pending))):  # close() may have cleared it
                self._pending.popleft()
            self._settle(n)

    def _on_outage(self, exc: PayloadStoreUnavailable) -> None:
        if not self._store_down:
            logger.warning("payload store unavailable, buffering up to %d records: %s",
                           self._max_pending, exc)
        self._store_down = True
        self._backoff = min(self._retry_max, max(self._retry_initial, self._backoff * 2))
        with self._cond:
            self._retry_at = time.monotonic() + self._backoff
            if self._stopping:
                self._retry_at = float("inf")

    def _settle(self, n: int) -> None:
        """Under the lock: ``n`` items reached a final state (written or counted as dropped)."""
        if n:
            self._unfinished = max(0, self._unfinished - n)
            if self._unfinished == 0:
                self._urgent = False
            self._cond.notify_all()


def _show(sink: Callable[[PayloadRecord], None], record: PayloadRecord) -> None:
    try:
        sink(record)
    except Exception as exc:  # noqa: BLE001 - a broken sink must not stop storage
        _selfmetrics.count_drop("payload_sink_failed")
        _guard.report("payloads.sink", exc)
