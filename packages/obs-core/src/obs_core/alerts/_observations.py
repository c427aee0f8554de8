"""What the alert engine remembers between evaluations: bounded windows fed by the span,
evaluation and drift streams. Writers are span-ending threads; the reader is the evaluator."""

from __future__ import annotations

import threading
from collections.abc import Hashable

from obs_core import _selfmetrics
from obs_core.alerts._windows import CountWindow, SampleWindow
from obs_core.drift import DriftResult
from obs_core.metrics import EvaluationFacts, SpanFacts

MODEL_CALL_KINDS = frozenset({"llm", "embedding"})
MAX_EVALUATION_SERIES = 500
"""Distinct (evaluator, pipeline version) pairs remembered; more are dropped and counted."""

# CountWindow keys
RUN: Hashable = "run"
ERROR: Hashable = "error"
AGENT_RUN = "agent_run"
AGENT_LIMIT = "agent_limit"
COST_USD = "cost_usd"
TOKENS = "tokens"
HALLUCINATION_CHECK = "hallucination_check"
HALLUCINATION_FLAG = "hallucination_flag"


class Observations:
    def __init__(self, *, max_samples: int = 10_000, resolution_s: float = 10.0,
                 retention_s: float = 86_400.0) -> None:
        self.retention_s = retention_s
        self.max_samples = max_samples
        self.latency = SampleWindow(maxlen=max_samples)
        """Model-call durations (s), tagged with the operation name."""
        self.counts = CountWindow(resolution_s=resolution_s, retention_s=retention_s)
        self._scores: dict[tuple[str, str], SampleWindow] = {}
        self._first_seen: dict[tuple[str, str], float] = {}
        self._drift: dict[tuple[str, str], DriftResult] = {}
        self._lock = threading.Lock()

    # --- writers -----------------------------------------------------------------------------
    def add_span(self, t: float, f: SpanFacts) -> None:
        c = self.counts
        c.add(t, (RUN, f.kind))
        if f.is_error:
            c.add(t, (ERROR, f.kind))
        if f.kind in MODEL_CALL_KINDS:
            self.latency.add(t, f.duration_s, f.operation or "")
            if f.cost_usd:
                c.add(t, COST_USD, f.cost_usd)
            tokens = (f.input_tokens or 0) + (f.output_tokens or 0)
            if tokens:
                c.add(t, TOKENS, tokens)
        elif f.kind == "agent":
            c.add(t, AGENT_RUN)
            if f.agent_limit_hit:
                c.add(t, AGENT_LIMIT)

    def add_evaluation(self, t: float, f: EvaluationFacts) -> None:
        if f.hallucination is not None:
            self.counts.add(t, HALLUCINATION_CHECK)
            if f.hallucination:
                self.counts.add(t, HALLUCINATION_FLAG)
        if f.score is None:
            return
        key = (f.name, f.pipeline_version or "")
        with self._lock:
            window = self._scores.get(key)
            if window is None:
                if len(self._scores) >= MAX_EVALUATION_SERIES:
                    _selfmetrics.count_drop("alert_evaluation_series_overflow")
                    return
                window = self._scores[key] = SampleWindow(maxlen=self.max_samples)
                self._first_seen[key] = t
        window.add(t, f.score)

    def add_drift(self, result: DriftResult) -> None:
        with self._lock:
            self._drift[(result.source, result.signal)] = result

    # --- readers (evaluator thread) ----------------------------------------------------------
    def drift_results(self) -> list[DriftResult]:
        with self._lock:
            return list(self._drift.values())

    def score_series(self) -> list[tuple[str, str, float, SampleWindow]]:
        """``(evaluator, pipeline_version, first_seen, window)`` for every series."""
        with self._lock:
            return [(name, version, self._first_seen[(name, version)], window)
                    for (name, version), window in self._scores.items()]

    def prune(self, now: float) -> None:
        horizon = now - self.retention_s
        self.latency.prune(horizon)
        with self._lock:
            windows = list(self._scores.values())
        for window in windows:
            window.prune(horizon)
