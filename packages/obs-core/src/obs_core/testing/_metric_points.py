"""Folding delta metric collections into totals "since the last clear".

The capture collects with delta temporality so that ``clear()`` can forget everything recorded so
far without replacing the meter provider (instruments created by the code under test keep
pointing at it). Each read adds the new deltas onto running totals per metric and attribute set.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from opentelemetry.sdk.metrics.export import (
    ExponentialHistogramDataPoint,
    Gauge,
    HistogramDataPoint,
    Metric,
    MetricsData,
    NumberDataPoint,
)

DataPoint = NumberDataPoint | HistogramDataPoint | ExponentialHistogramDataPoint
"""Any point the SDK produces."""

_Key = tuple[str, frozenset[tuple[str, object]]]


def _attributes_key(point: DataPoint) -> frozenset[tuple[str, object]]:
    items = (point.attributes or {}).items()
    return frozenset(
        (key, tuple(value) if isinstance(value, list) else value) for key, value in items
    )


def _fold(total: DataPoint, delta: DataPoint, *, is_gauge: bool) -> DataPoint:
    if is_gauge:
        return delta
    if isinstance(total, NumberDataPoint) and isinstance(delta, NumberDataPoint):
        return replace(total, value=total.value + delta.value, time_unix_nano=delta.time_unix_nano)
    if (
        isinstance(total, HistogramDataPoint)
        and isinstance(delta, HistogramDataPoint)
        and list(total.explicit_bounds) == list(delta.explicit_bounds)
    ):
        return replace(
            total,
            count=total.count + delta.count,
            sum=total.sum + delta.sum,
            bucket_counts=[
                a + b for a, b in zip(total.bucket_counts, delta.bucket_counts, strict=True)
            ],
            min=min(total.min, delta.min),
            max=max(total.max, delta.max),
            time_unix_nano=delta.time_unix_nano,
            exemplars=[*total.exemplars, *delta.exemplars],
        )
    # Exponential histograms change scale between collections; folding them is not worth it
    # for tests, so the latest delta is kept.
    return delta


class PointTotals:
    """Running totals of every metric point read so far."""

    def __init__(self) -> None:
        self._totals: dict[_Key, DataPoint] = {}
        self._order: list[_Key] = []

    def add(self, data: MetricsData | None) -> None:
        for metric in _metrics(data):
            is_gauge = isinstance(metric.data, Gauge)
            for point in metric.data.data_points:
                key = (metric.name, _attributes_key(point))
                if key in self._totals:
                    self._totals[key] = _fold(self._totals[key], point, is_gauge=is_gauge)
                else:
                    self._totals[key] = point
                    self._order.append(key)

    def points(self, name: str) -> list[DataPoint]:
        return [self._totals[key] for key in self._order if key[0] == name]

    def names(self) -> list[str]:
        return list(dict.fromkeys(key[0] for key in self._order))

    def clear(self) -> None:
        self._totals.clear()
        self._order.clear()


def _metrics(data: MetricsData | None) -> Iterable[Metric]:
    if data is None:
        return
    for resource_metrics in data.resource_metrics:
        for scope_metrics in resource_metrics.scope_metrics:
            yield from scope_metrics.metrics
