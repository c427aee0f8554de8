"""obs watching itself: counters of what went wrong inside obs, read by metrics and the CLI.

The hot path only bumps a dict entry; OpenTelemetry instruments observe the dicts through
callbacks at collection time, so self-metrics cost nothing between scrapes and exist even when
no meter provider is configured (tests and ``obs doctor`` read :func:`snapshot`).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable

from opentelemetry.metrics import CallbackOptions, Meter, Observation

_lock = threading.Lock()
_internal_errors: Counter[str] = Counter()
_dropped: Counter[str] = Counter()
_orphaned = 0
_gauges: dict[str, Callable[[], int]] = {}


def count_internal_error(where: str) -> None:
    """An exception inside obs was caught at ``where`` (a guard name)."""
    with _lock:
        _internal_errors[where] += 1


def count_drop(reason: str, n: int = 1) -> None:
    """Something was discarded: a span, record, evaluation or attribute value.

    ``reason`` is a short stable slug such as ``export_queue_full`` or ``end_without_start``;
    nothing obs loses goes uncounted.
    """
    with _lock:
        _dropped[reason] += n


def count_orphan(n: int = 1) -> None:
    global _orphaned
    with _lock:
        _orphaned += n


def register_gauge(name: str, read: Callable[[], int]) -> None:
    """Expose a live value (open spans, queue depth) under ``name``; last registration wins."""
    with _lock:
        _gauges[name] = read


def snapshot() -> dict[str, dict[str, int]]:
    """A copy of every counter, for tests and diagnostics."""
    with _lock:
        gauges = dict(_gauges)
        out = {
            "internal_errors": dict(_internal_errors),
            "dropped": dict(_dropped),
            "orphaned": {"total": _orphaned},
        }
    out["gauges"] = {name: _safe_read(read) for name, read in gauges.items()}
    return out


def reset() -> None:
    """Zero the counters (tests only)."""
    global _orphaned
    with _lock:
        _internal_errors.clear()
        _dropped.clear()
        _orphaned = 0


def _safe_read(read: Callable[[], int]) -> int:
    try:
        return int(read())
    except Exception:  # noqa: BLE001 - a broken gauge must not break a scrape
        return -1


def register_instruments(meter: Meter) -> None:
    """Create the observable instruments on ``meter`` (called by ``configure()``)."""

    def errors(_: CallbackOptions) -> Iterable[Observation]:
        with _lock:
            items = list(_internal_errors.items())
        return [Observation(v, {"obs.where": k}) for k, v in items]

    def drops(_: CallbackOptions) -> Iterable[Observation]:
        with _lock:
            items = list(_dropped.items())
        return [Observation(v, {"obs.reason": k}) for k, v in items]

    def orphans(_: CallbackOptions) -> Iterable[Observation]:
        return [Observation(_orphaned)]

    def gauges(_: CallbackOptions) -> Iterable[Observation]:
        with _lock:
            items = list(_gauges.items())
        return [Observation(_safe_read(r), {"obs.gauge": k}) for k, r in items]

    meter.create_observable_counter(
        "obs.self.internal_errors", [errors], unit="{error}",
        description="Exceptions raised inside obs and contained before reaching the application.",
    )
    meter.create_observable_counter(
        "obs.self.dropped", [drops], unit="{item}",
        description="Spans, records, evaluations or values obs discarded, by reason.",
    )
    meter.create_observable_counter(
        "obs.self.orphaned_spans", [orphans], unit="{span}",
        description="Spans ended by the sweeper because their run never finished.",
    )
    meter.create_observable_gauge(
        "obs.self.gauge", [gauges], unit="1",
        description="Live internal levels: open spans, queue depths.",
    )
