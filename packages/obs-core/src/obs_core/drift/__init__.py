"""Drift in what a RAG system retrieves and is asked: a stale index, a shifted user base.

Wire-up: ``detector = DriftDetector(meter_provider=mp, tracer_provider=tp)``, then
``metrics_processor.add_listener(detector)`` (retrieval scores arrive with finished retriever
spans) and ``alert_engine.watch_drift(detector)`` (checks run on the evaluator thread and feed
the ``drift`` alert rule).
"""

from __future__ import annotations

from obs_core.drift._detector import DriftDetector
from obs_core.drift._result import (
    SIGNAL_ANSWER_EMBEDDING,
    SIGNAL_QUERY_EMBEDDING,
    SIGNAL_RETRIEVAL_SCORE,
    DriftConfig,
    DriftListener,
    DriftResult,
)
from obs_core.drift._stats import KSResult, ks_two_sample, psi

__all__ = [
    "SIGNAL_ANSWER_EMBEDDING",
    "SIGNAL_QUERY_EMBEDDING",
    "SIGNAL_RETRIEVAL_SCORE",
    "DriftConfig",
    "DriftDetector",
    "DriftListener",
    "DriftResult",
    "KSResult",
    "ks_two_sample",
    "psi",
]
