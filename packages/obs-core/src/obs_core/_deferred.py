"""Work that does not have to happen on the application's thread, done on one daemon thread.

Callback threads hand over ``(function, argument)`` pairs with :meth:`DeferredWork.submit`,
which is a bounded ``deque.append`` and nothing else: no lock, no wake-up call. The worker wakes
every ``interval_s`` (or as soon as a batch has piled up) and runs everything queued, in order,
each call under the guard. A full queue drops the item and counts it (``obs.self.dropped``
with the queue's reason), so a stalled worker can never hold the application's memory.

:func:`drain` waits until everything handed over so far has run: ``obs_core.flush()`` and the
test capture call it before reading metrics.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

from obs_core import _selfmetrics
from obs_core._guard import guard

_all: weakref.WeakSet[DeferredWork] = weakref.WeakSet()


class DeferredWork:
    """A bounded FIFO of small tasks and the daemon thread that runs them."""

    def __init__(self, *, name: str, drop_reason: str, max_queue: int = 16_384,
                 batch: int = 256, interval_s: float = 0.1) -> None:
        self.name = name
        self._drop_reason = drop_reason
        self._where = f"deferred.{name}"
        self._max = max_queue
        self._batch = batch
        self._interval = interval_s
        self._queue: deque[tuple[Callable[[Any], object], Any]] = deque()
        self._wake = threading.Event()
        self._idle = threading.Condition()
        self._busy = False
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._run_lock = threading.Lock()
        self._batch_hooks: list[weakref.WeakMethod[Callable[[], object]]] = []
        _all.add(self)
        _selfmetrics.register_gauge(f"queue.{name}", self.depth)

    def depth(self) -> int:
        return len(self._queue)

    def after_each_batch(self, hook: Callable[[], object]) -> None:
        """Call the bound method ``hook`` whenever the worker has emptied the queue (a
        consumer that accumulates per batch flushes there). Held weakly: a hook whose object
        is gone is forgotten."""
        with self._start_lock:
            self._batch_hooks = [h for h in self._batch_hooks if h() is not None]
            self._batch_hooks.append(weakref.WeakMethod(hook))

    def submit(self, fn: Callable[[Any], object], arg: Any) -> bool:
        """Hand ``fn(arg)`` over; called on callback threads, never blocks. ``False`` (and a
        counted drop) when the queue is full."""
        queue = self._queue
        if len(queue) >= self._max:
            _selfmetrics.count_drop(self._drop_reason)
            return False
        queue.append((fn, arg))
        if self._thread is None:
            self._start()
        elif len(queue) >= self._batch:
            self._wake.set()
        return True

    def drain(self, timeout: float = 5.0) -> bool:
        """Run everything submitted so far; ``False`` if that did not finish in time."""
        deadline = time.monotonic() + timeout
        while True:
            with self._idle:
                if not self._queue and not self._busy:
                    return True
                if self._thread is None or not self._thread.is_alive():
                    break
                self._wake.set()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(min(remaining, 0.05))
        # No worker (a fork child, or the thread died): run the backlog here.
        self._run_all()
        return True

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is not None:
                return
            thread = threading.Thread(target=self._loop, name=f"obs-{self.name}", daemon=True)
            self._thread = thread
        thread.start()

    def _loop(self) -> None:
        idle_rounds = 0
        while True:
            # Batching by time keeps the callback side free of wake-up calls; an idle worker
            # backs off to a second so a quiet process is not woken ten times a second.
            self._wake.wait(self._interval if idle_rounds < 10 else 1.0)
            self._wake.clear()
            idle_rounds = 0 if self._run_all() else idle_rounds + 1

    def _run_all(self) -> bool:
        """Run everything queued; whether there was anything."""
        queue = self._queue
        ran = False
        with self._idle:
            self._busy = True
        try:
            with self._run_lock:  # one runner at a time, so batch consumers see one thread
                while queue:
                    fn, arg = queue.popleft()
                    ran = True
                    with guard(self._where):
                        fn(arg)
                if ran:
                    for ref in list(self._batch_hooks):
                        hook = ref()
                        if hook is not None:
                            with guard(self._where):
                                hook()
        finally:
            with self._idle:
                self._busy = False
                self._idle.notify_all()
        return ran

    def _after_fork(self) -> None:
        """In a fork child the worker thread does not exist: start a new one on demand."""
        self._thread = None
        self._start_lock = threading.Lock()
        self._run_lock = threading.Lock()
        self._idle = threading.Condition()
        self._wake = threading.Event()
        self._busy = False


def drain_all(timeout: float = 5.0) -> bool:
    """Drain every deferred queue in the process."""
    deadline = time.monotonic() + timeout
    ok = True
    for work in list(_all):
        ok = work.drain(max(0.0, deadline - time.monotonic())) and ok
    return ok


def _reset_after_fork() -> None:
    for work in list(_all):
        work._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)
