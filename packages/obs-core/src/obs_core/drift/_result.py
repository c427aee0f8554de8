"""Drift detector settings and results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

SIGNAL_RETRIEVAL_SCORE = "retrieval_score"
SIGNAL_QUERY_EMBEDDING = "query_embedding"
SIGNAL_ANSWER_EMBEDDING = "answer_embedding"


class DriftConfig(BaseModel):
    """When a window is big enough to test, and how different it must be to count as drift."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reference_size: int = Field(default=200, ge=2)
    """Samples frozen as the baseline: the first ones seen per source and signal, or those
    given to :meth:`DriftDetector.set_reference`."""
    current_size: int = Field(default=200, ge=2)
    """The most recent samples compared against the baseline."""
    min_reference: int = Field(default=50, ge=2)
    min_current: int = Field(default=50, ge=2)
    ks_alpha: float = Field(default=0.01, gt=0, lt=1)
    """KS p-value below which the distributions differ."""
    psi_threshold: float = Field(default=0.2, gt=0)
    """PSI at or above which the shift is material (0.1 slight, 0.25 major by common usage)."""
    bins: int = Field(default=10, ge=2)
    centroid_threshold: float | None = Field(default=None, gt=0, le=2)
    """Embeddings only: cosine distance between centroids that counts as drift on its own."""

    @model_validator(mode="after")
    def _sizes(self) -> DriftConfig:
        if self.min_reference > self.reference_size or self.min_current > self.current_size:
            raise ValueError("minimum sizes cannot exceed the window sizes")
        return self


@dataclass(frozen=True, kw_only=True, slots=True)
class DriftResult:
    """One comparison of the current window against the reference, for one source and signal.

    Drift is declared only when the KS test and the PSI agree: either alone fires now and then
    on unchanged data, and checks repeat every few seconds.
    """

    source: str
    """Retriever (``gen_ai.data_source.id``) or embedding stream name."""
    signal: str
    detected: bool
    ks_statistic: float
    p_value: float
    psi: float
    mean_shift: float
    """Current mean minus reference mean (similarities to the reference centroid for
    embeddings): negative when scores fell."""
    reference_size: int
    current_size: int
    checked_at: float
    centroid_distance: float | None = None
    trace_id: int = 0
    """The latest span that fed the current window (0 if none), for linking."""
    span_id: int = 0

    @property
    def summary(self) -> str:
        verdict = "drift" if self.detected else "no drift"
        return (f"{verdict} in {self.signal} of {self.source}: KS={self.ks_statistic:.3f} "
                f"(p={self.p_value:.2g}), PSI={self.psi:.3f}, mean shift={self.mean_shift:+.3f}")


class DriftListener(Protocol):
    """Receives every drift result (the alert engine implements it)."""

    def on_drift(self, result: DriftResult) -> None: ...
