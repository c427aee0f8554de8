"""Evaluation results as metrics: the evaluation pipeline's only entry point into metrics/alerts."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from opentelemetry import metrics
from opentelemetry.metrics import MeterProvider

from obs_core import semconv as sc
from obs_core._guard import guard
from obs_core.metrics import _names as n
from obs_core.metrics._cardinality import CardinalityGuard
from obs_core.metrics._facts import EvaluationFacts, EvaluationListener
from obs_core.metrics._instruments import create_counter, create_histogram
from obs_core.metrics._processor import METER_NAME

DEFAULT_HALLUCINATION_EVALUATORS: Final = frozenset({"hallucination", "faithfulness", "groundedness"})
"""Evaluators whose failed result means the answer was flagged as hallucinated."""


class EvaluationMetrics:
    """Records evaluator scores, pass/fail counts and hallucination flags, then hands the result
    to listeners (the alert engine watches quality per pipeline version).

    ``record`` is cheap and never raises; call it from the evaluation worker.
    """

    def __init__(
        self,
        meter_provider: MeterProvider | None = None,
        *,
        cardinality: CardinalityGuard | None = None,
        hallucination_evaluators: Iterable[str] = DEFAULT_HALLUCINATION_EVALUATORS,
        listeners: Iterable[EvaluationListener] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        provider = meter_provider if meter_provider is not None else metrics.get_meter_provider()
        meter = provider.get_meter(METER_NAME)
        self._guard = cardinality if cardinality is not None else CardinalityGuard()
        self._hallucination_names = frozenset(hallucination_evaluators)
        self._listeners: tuple[EvaluationListener, ...] = tuple(listeners)
        self._lock = threading.Lock()
        self._clock = clock
        self._score = create_histogram(meter, n.EVALUATION_SCORE)
        self._results = create_counter(meter, n.EVALUATION_RESULTS)
        self._hallucinations = create_counter(meter, n.HALLUCINATION_CHECKS)

    def add_listener(self, listener: EvaluationListener) -> None:
        with self._lock:
            self._listeners = (*self._listeners, listener)

    def record(
        self,
        name: str,
        score: float | None,
        passed: bool | None,
        attributes: Mapping[str, Any] | None = None,
        *,
        hallucination: bool | None = None,
    ) -> None:
        """One evaluator result.

        ``attributes`` are those of the evaluated span (or the evaluation itself); the model,
        pipeline version, user cohort and ``obs.evaluation.trace_id``/``span_id`` are read from
        it. ``hallucination`` says explicitly whether this result flags a hallucination; when
        omitted, a failed result of one of the hallucination evaluators counts as a flag.
        """
        with guard("metrics.evaluation"):
            facts = self._facts(name, score, passed, attributes or {}, hallucination)
            self._record(facts)
            for listener in self._listeners:
                with guard("metrics.evaluation_listener"):
                    listener.on_evaluation(facts)

    def _facts(self, name: str, score: float | None, passed: bool | None,
               attrs: Mapping[str, Any], hallucination: bool | None) -> EvaluationFacts:
        if hallucination is None and name in self._hallucination_names and passed is not None:
            hallucination = not passed
        if score is not None and (isinstance(score, bool) or score != score):
            score = None
        return EvaluationFacts(
            name=name,
            score=float(score) if score is not None else None,
            passed=passed,
            hallucination=hallucination,
            pipeline_version=_text(attrs.get(sc.OBS_PIPELINE_VERSION)),
            model=_text(attrs.get(sc.GEN_AI_REQUEST_MODEL)),
            user_cohort=_text(attrs.get(sc.OBS_USER_COHORT)),
            time_s=self._clock(),
            trace_id=_hex_id(attrs.get(sc.OBS_EVALUATED_TRACE_ID)),
            span_id=_hex_id(attrs.get(sc.OBS_EVALUATED_SPAN_ID)),
            attributes=dict(attrs),
        )

    def _record(self, f: EvaluationFacts) -> None:
        attrs = self._guard.attributes({
            sc.GEN_AI_EVALUATION_NAME: f.name,
            sc.GEN_AI_REQUEST_MODEL: f.model,
            sc.OBS_PIPELINE_VERSION: f.pipeline_version,
            sc.OBS_USER_COHORT: f.user_cohort,
        })
        if f.score is not None:
            self._score.record(f.score, attrs)
        if f.passed is not None:
            self._results.add(1, {**attrs, sc.OBS_EVALUATION_PASSED: _flag(f.passed)})
        if f.hallucination is not None:
            self._hallucinations.add(
                1, {**attrs, sc.OBS_EVALUATION_HALLUCINATION: _flag(f.hallucination)}
            )


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _hex_id(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return int(value, 16)
        except ValueError:
            return 0
    return 0
