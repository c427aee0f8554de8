"""Bounded sliding windows: raw samples where a quantile needs them, counts everywhere else.

Counts live in fixed-width time buckets, so a day-long spend window costs a few thousand
numbers however busy the application is, while latency keeps the most recent samples only.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Hashable


class SampleWindow:
    """The most recent ``(time, value, tag)`` samples, at most ``maxlen`` of them."""

    def __init__(self, *, maxlen: int = 10_000) -> None:
        self._items: deque[tuple[float, float, str]] = deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def add(self, t: float, value: float, tag: str = "") -> None:
        with self._lock:
            self._items.append((t, value, tag))

    def since(self, t0: float, *, tags: frozenset[str] | None = None) -> list[float]:
        """Values at or after ``t0``, optionally only those whose tag is in ``tags``."""
        with self._lock:
            return [v for t, v, tag in self._items
                    if t >= t0 and (tags is None or tag in tags)]

    def __len__(self) -> int:
        return len(self._items)

    def prune(self, t0: float) -> None:
        with self._lock:
            while self._items and self._items[0][0] < t0:
                self._items.popleft()


class CountWindow:
    """Sums per key in ``resolution_s``-wide buckets, kept for ``retention_s``."""

    def __init__(self, *, resolution_s: float = 10.0, retention_s: float = 86_400.0) -> None:
        if resolution_s <= 0 or retention_s <= 0:
            raise ValueError("resolution and retention must be positive")
        self._resolution = resolution_s
        self._retention = retention_s
        self._buckets: deque[tuple[float, dict[Hashable, float]]] = deque()
        self._lock = threading.Lock()

    def add(self, t: float, key: Hashable, amount: float = 1.0) -> None:
        start = math.floor(t / self._resolution) * self._resolution
        with self._lock:
            if not self._buckets or self._buckets[-1][0] < start:
                self._buckets.append((start, {}))
                while self._buckets and self._buckets[0][0] < start - self._retention:
                    self._buckets.popleft()
            # Late samples (clock skew between threads) land in the newest bucket.
            bucket = self._buckets[-1][1]
            bucket[key] = bucket.get(key, 0.0) + amount

    def totals(self, t0: float) -> dict[Hashable, float]:
        """Sums over buckets that start at or after ``t0`` rounded down to a bucket edge."""
        edge = math.floor(t0 / self._resolution) * self._resolution
        out: dict[Hashable, float] = {}
        with self._lock:
            for start, bucket in reversed(self._buckets):
                if start < edge:
                    break
                for key, value in bucket.items():
                    out[key] = out.get(key, 0.0) + value
        return out


def quantile(values: list[float], q: float) -> float:
    """Linear-interpolated quantile of a non-empty sample."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)
