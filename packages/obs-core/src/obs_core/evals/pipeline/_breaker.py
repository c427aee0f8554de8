"""A circuit breaker per evaluator, so a failing judge is not hammered while it is down.

Closed: calls go through; ``failures`` consecutive failures open it. Open: calls are refused
(and counted as drops) until ``reset_s`` has passed. Half-open: one probe call goes through; its
success closes the breaker, its failure opens it for another ``reset_s``.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable

__all__ = ["BreakerState", "CircuitBreaker"]


class BreakerState(str, enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Thread-safe; ``allow()`` before a call, then ``record(success)`` after it."""

    def __init__(self, *, failures: int = 5, reset_s: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if failures < 1:
            raise ValueError("failures must be at least 1")
        if reset_s < 0:
            raise ValueError("reset_s must be >= 0")
        self.failures = failures
        self.reset_s = reset_s
        self._clock = clock
        self._lock = threading.Lock()
        self._state = BreakerState.CLOSED
        self._consecutive = 0
        self._opened_at = 0.0
        self._probing = False

    @property
    def state(self) -> BreakerState:
        with self._lock:
            if self._state is BreakerState.OPEN and self._clock() - self._opened_at >= self.reset_s:
                return BreakerState.HALF_OPEN
            return self._state

    def allow(self) -> bool:
        """May a call go through now? In half-open state, only one probe at a time."""
        with self._lock:
            if self._state is BreakerState.CLOSED:
                return True
            if self._state is BreakerState.OPEN:
                if self._clock() - self._opened_at < self.reset_s:
                    return False
                self._state = BreakerState.HALF_OPEN
                self._probing = False
            if self._probing:
                return False
            self._probing = True
            return True

    def release(self) -> None:
        """The allowed call proved nothing either way (e.g. the sample lacked inputs)."""
        with self._lock:
            self._probing = False

    def record(self, *, success: bool) -> None:
        with self._lock:
            if success:
                self._state = BreakerState.CLOSED
                self._consecutive = 0
                self._probing = False
                return
            self._consecutive += 1
            if self._state is BreakerState.HALF_OPEN or self._consecutive >= self.failures:
                self._state = BreakerState.OPEN
                self._opened_at = self._clock()
                self._probing = False
