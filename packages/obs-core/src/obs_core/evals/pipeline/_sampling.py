"""Which traces each evaluator looks at: a deterministic share by trace id, plus the traces that
matter most (errored, slow, agent step limit hit), which are always evaluated.

Sampling by a hash of the trace id (salted with the evaluator name) means every process and
every rerun makes the same choice for the same trace, and different evaluators sample
independent subsets.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["SamplingPolicy", "in_sample"]

_SCALE = float(1 << 64)


def in_sample(trace_id: str, evaluator: str, rate: float) -> bool:
    """``True`` for a stable ``rate`` share of trace ids (per evaluator)."""
    if rate >= 1.0:
        return True
    if rate <= 0.0:
        return False
    digest = hashlib.blake2b(f"{evaluator}\x00{trace_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _SCALE < rate


@dataclass(frozen=True, kw_only=True)
class SamplingPolicy:
    rate: float = 1.0
    """Share of ordinary traces evaluated, per evaluator."""
    rates: Mapping[str, float] = field(default_factory=dict)
    """Per-evaluator overrides of ``rate``, by evaluator name."""
    always_errors: bool = True
    always_slow_s: float | None = None
    """Traces whose root took at least this long are always evaluated (``None``: no rule)."""
    always_limit_hit: bool = True

    def __post_init__(self) -> None:
        for name, value in {"rate": self.rate, **self.rates}.items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"sample rate {name}={value} is outside [0, 1]")

    def forced_reason(self, *, errored: bool, duration_s: float, limit_hit: bool) -> str | None:
        """Why a trace must be evaluated whatever the rate, or ``None``."""
        if self.always_errors and errored:
            return "error"
        if self.always_limit_hit and limit_hit:
            return "limit_hit"
        if self.always_slow_s is not None and duration_s >= self.always_slow_s:
            return "slow"
        return None

    def selects(self, trace_id: str, evaluator: str, *, forced: bool) -> bool:
        return forced or in_sample(trace_id, evaluator, self.rates.get(evaluator, self.rate))
