"""Where an evaluation outcome goes: a span with a ``gen_ai.evaluation.result`` event, a row in
the trace store's ``evaluations`` table, and the evaluation metrics.

The span (``evaluate {evaluator}``) is a new root with an OpenTelemetry *link* to the evaluated
span rather than a child of it. Evaluations finish seconds or minutes after the application's
trace ended, possibly in another process; as a child the span would stretch the trace's duration
(and its latency percentiles) with work the user never waited for, and would arrive after the
trace was exported. A link keeps the relation navigable in any OTLP backend without distorting
the application's own timing.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags

from obs_core import semconv as sc
from obs_core._guard import guard
from obs_core.evals.base import EvalFailure, EvalResult
from obs_core.evals.pipeline._samples import EvalJob
from obs_core.metrics import EvaluationMetrics
from obs_core.spans import SpanKind as ObsSpanKind
from obs_core.store._evaluations import EvaluationRow, SQLiteEvaluationStore

__all__ = ["TRACER_NAME", "ResultSink"]

logger = logging.getLogger("obs.evals.pipeline")

TRACER_NAME = "obs.evals"
_MAX_EXPLANATION = 2_000


class ResultSink:
    """Publishes outcomes; each destination is optional and guarded on its own."""

    def __init__(
        self,
        *,
        tracer_provider: trace.TracerProvider | None = None,
        metrics: EvaluationMetrics | None = None,
        store: SQLiteEvaluationStore | None = None,
    ) -> None:
        provider = tracer_provider if tracer_provider is not None else trace.get_tracer_provider()
        self._tracer = provider.get_tracer(TRACER_NAME)
        self._metrics = metrics
        self._store = store

    def publish(self, job: EvalJob, outcome: EvalResult | EvalFailure, *,
                judge_model: str | None = None, cached: bool = False) -> None:
        with guard("evals.pipeline.span"):
            self._span(job, outcome)
        if self._store is not None:
            with guard("evals.pipeline.store"):
                row = _row(job, outcome, judge_model)
                if cached:
                    row = row.model_copy(update={"details": {**row.details, "cached": True}})
                self._store.write([row])
        if self._metrics is not None and isinstance(outcome, EvalResult):
            self._metrics.record(outcome.name, outcome.score, outcome.passed, job.attributes)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()

    def _span(self, job: EvalJob, outcome: EvalResult | EvalFailure) -> None:
        evaluated = SpanContext(
            trace_id=int(job.trace_id, 16), span_id=int(job.span_id, 16), is_remote=True,
            trace_flags=TraceFlags(TraceFlags.SAMPLED),
        )
        attributes: dict[str, Any] = {
            sc.GEN_AI_OPERATION_NAME: "evaluate",
            sc.OBS_SPAN_KIND: ObsSpanKind.EVALUATION.value,
            sc.GEN_AI_EVALUATION_NAME: outcome.name,
            sc.OBS_EVALUATED_TRACE_ID: job.trace_id,
            sc.OBS_EVALUATED_SPAN_ID: job.span_id,
        }
        span = self._tracer.start_span(
            f"evaluate {outcome.name}",
            context=otel_context.Context(),  # a new root: see the module docstring
            kind=SpanKind.INTERNAL,
            links=[Link(evaluated)],
            attributes=attributes,
        )
        try:
            if isinstance(outcome, EvalResult):
                span.add_event(sc.GEN_AI_EVALUATION_RESULT_EVENT, {
                    sc.GEN_AI_EVALUATION_NAME: outcome.name,
                    sc.GEN_AI_EVALUATION_SCORE_VALUE: outcome.score,
                    sc.GEN_AI_EVALUATION_SCORE_LABEL: outcome.label,
                    sc.GEN_AI_EVALUATION_EXPLANATION: outcome.explanation[:_MAX_EXPLANATION],
                })
            else:
                span.set_attribute(sc.ERROR_TYPE, outcome.error_type)
                span.set_status(Status(StatusCode.ERROR, outcome.message[:_MAX_EXPLANATION]))
        finally:
            span.end()


def _row(job: EvalJob, outcome: EvalResult | EvalFailure, judge_model: str | None) -> EvaluationRow:
    now = time.time_ns()
    if isinstance(outcome, EvalResult):
        return EvaluationRow(
            trace_id=job.trace_id, span_id=job.span_id, evaluator=outcome.name,
            score=outcome.score, label=outcome.label, passed=outcome.passed,
            explanation=outcome.explanation[:_MAX_EXPLANATION], version=outcome.version,
            judge_model=judge_model, created_ns=now, details=outcome.details,
        )
    return EvaluationRow(
        trace_id=job.trace_id, span_id=job.span_id, evaluator=outcome.name, score=None,
        label="error", passed=None,
        explanation=f"{outcome.error_type}: {outcome.message}"[:_MAX_EXPLANATION],
        version=outcome.version, judge_model=judge_model, created_ns=now,
        details={"error_type": outcome.error_type},
    )
