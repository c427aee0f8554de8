"""Two-sample statistics in pure Python: no numpy/scipy in core for two small formulas."""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True, slots=True)
class KSResult:
    statistic: float
    """Largest gap between the two empirical distribution functions (0..1)."""
    p_value: float
    """Asymptotic probability of a gap at least this large if both samples share a distribution."""


def ks_two_sample(reference: Sequence[float], current: Sequence[float]) -> KSResult:
    """Two-sided Kolmogorov-Smirnov test.

    The p-value uses the asymptotic Kolmogorov distribution with the usual small-sample
    correction of the effective size; it is accurate enough for the tens-to-thousands of samples
    a drift window holds, and exact p-values are not what an alert threshold needs.
    """
    n, m = len(reference), len(current)
    if n == 0 or m == 0:
        raise ValueError("both samples must be non-empty")
    a, b = sorted(reference), sorted(current)
    i = j = 0
    gap = 0.0
    while i < n and j < m:
        x = min(a[i], b[j])
        while i < n and a[i] == x:
            i += 1
        while j < m and b[j] == x:
            j += 1
        gap = max(gap, abs(i / n - j / m))
    effective = n * m / (n + m)
    root = math.sqrt(effective)
    return KSResult(statistic=gap, p_value=_kolmogorov_q((root + 0.12 + 0.11 / root) * gap))


def _kolmogorov_q(lam: float) -> float:
    """P(K > lam) for the Kolmogorov distribution, by its alternating series."""
    if lam < 0.2:
        return 1.0
    total = 0.0
    sign = 1.0
    for j in range(1, 101):
        term = sign * math.exp(-2.0 * j * j * lam * lam)
        total += term
        if abs(term) < 1e-12:
            break
        sign = -sign
    return min(1.0, max(0.0, 2.0 * total))


def psi(reference: Sequence[float], current: Sequence[float], *, bins: int = 10,
        epsilon: float = 1e-4) -> float:
    """Population stability index of ``current`` against ``reference``.

    Bins are reference quantiles, so each holds about the same share of the reference and the
    index reacts to where the current mass moved rather than to the value range. Empty bins get
    ``epsilon`` so the logarithm stays finite.
    """
    if not reference or not current:
        raise ValueError("both samples must be non-empty")
    if bins < 2:
        raise ValueError("bins must be at least 2")
    ordered = sorted(reference)
    edges = sorted({ordered[min(len(ordered) - 1, (k * len(ordered)) // bins)]
                    for k in range(1, bins)})
    ref_share = _shares(ordered, edges)
    cur_share = _shares(current, edges)
    total = 0.0
    for r, c in zip(ref_share, cur_share, strict=True):
        r, c = max(r, epsilon), max(c, epsilon)
        total += (c - r) * math.log(c / r)
    return total


def _shares(values: Sequence[float], edges: list[float]) -> list[float]:
    counts = [0] * (len(edges) + 1)
    for v in values:
        counts[bisect.bisect_right(edges, v)] += 1
    size = len(values)
    return [c / size for c in counts]


def mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values) if values else 0.0


def centroid(vectors: Sequence[Sequence[float]]) -> list[float]:
    """Component-wise mean of equally sized vectors."""
    if not vectors:
        return []
    dim = len(vectors[0])
    sums = [0.0] * dim
    for vec in vectors:
        for k in range(dim):
            sums[k] += vec[k]
    return [s / len(vectors) for s in sums]


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity; 0 when either vector is all zeros."""
    dot = math.fsum(x * y for x, y in zip(a, b, strict=False))
    na = math.sqrt(math.fsum(x * x for x in a))
    nb = math.sqrt(math.fsum(y * y for y in b))
    if na == 0.0 or nb == 0.0:
        return 0.0
    return dot / (na * nb)
