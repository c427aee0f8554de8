"""Bounded label values: one runaway attribute must not blow up the metrics backend.

Model names, pipeline versions and cohorts come from user code. Each attribute key admits its
first ``max_values`` distinct values; later newcomers are recorded as ``other`` and counted as a
drop, so the loss is visible in ``obs.self.dropped`` rather than silent.
"""

from __future__ import annotations

import threading

from obs_core import _selfmetrics

OVERFLOW_VALUE = "other"
DROP_REASON = "metric_attribute_overflow"


class CardinalityGuard:
    """Caps distinct values per attribute key; thread-safe, lock-free once a value is known."""

    def __init__(self, *, max_values: int = 50) -> None:
        if max_values < 1:
            raise ValueError("max_values must be at least 1")
        self._max = max_values
        self._seen: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    @property
    def max_values(self) -> int:
        return self._max

    def admit(self, key: str, value: str) -> str:
        """``value`` if ``key`` still has room for it (or already has it), else ``other``."""
        seen = self._seen.get(key)
        if seen is not None and value in seen:
            return value
        with self._lock:
            seen = self._seen.setdefault(key, set())
            if value in seen:
                return value
            if len(seen) < self._max:
                seen.add(value)
                return value
        _selfmetrics.count_drop(DROP_REASON)
        return OVERFLOW_VALUE

    def attributes(self, pairs: dict[str, str | None]) -> dict[str, str]:
        """Drop ``None`` values and bound the rest."""
        return {k: self.admit(k, v) for k, v in pairs.items() if v is not None}
