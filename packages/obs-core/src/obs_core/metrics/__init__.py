"""Metrics derived from finished spans and evaluation results, and where they are exported.

Wire-up::

    meter_provider = build_meter_provider(resource=resource, prometheus_port=9464)
    tracer_provider.add_span_processor(MetricsSpanProcessor(meter_provider))
    evaluations = EvaluationMetrics(meter_provider)

Metric names follow the OpenTelemetry GenAI conventions (``gen_ai.client.*``) where they exist
and ``obs.*`` otherwise; :data:`ALL_METRICS` lists them with the names Prometheus sees.
"""

from __future__ import annotations

from obs_core.metrics._cardinality import OVERFLOW_VALUE, CardinalityGuard
from obs_core.metrics._dashboard import grafana_dashboard
from obs_core.metrics._evaluation import DEFAULT_HALLUCINATION_EVALUATORS, EvaluationMetrics
from obs_core.metrics._export import (
    ObsMeterProvider,
    PrometheusEndpoint,
    build_meter_provider,
)
from obs_core.metrics._facts import (
    EvaluationFacts,
    EvaluationListener,
    SpanFacts,
    SpanFactsListener,
    span_facts,
)
from obs_core.metrics._names import (
    AGENT_LIMIT_HITS,
    AGENT_STEPS,
    ALERTS_FIRING,
    ALL_METRICS,
    COST,
    DRIFT_DETECTED,
    DRIFT_KS,
    DRIFT_PSI,
    DURATION_BUCKETS,
    ERRORS,
    EVALUATION_RESULTS,
    EVALUATION_SCORE,
    HALLUCINATION_CHECKS,
    OPERATION_DURATION,
    RETRIEVAL_SCORE,
    RUNS,
    SELF_DROPPED,
    SELF_GAUGE,
    SELF_INTERNAL_ERRORS,
    SELF_ORPHANED,
    TIME_TO_FIRST_CHUNK,
    TOKEN_BUCKETS,
    TOKEN_USAGE,
    TOOL_CALLS,
    TOOL_DURATION,
    MetricSpec,
    prometheus_label,
)
from obs_core.metrics._processor import METER_NAME, MetricsSpanProcessor

__all__ = [
    "AGENT_LIMIT_HITS",
    "AGENT_STEPS",
    "ALERTS_FIRING",
    "ALL_METRICS",
    "COST",
    "DEFAULT_HALLUCINATION_EVALUATORS",
    "DRIFT_DETECTED",
    "DRIFT_KS",
    "DRIFT_PSI",
    "DURATION_BUCKETS",
    "ERRORS",
    "EVALUATION_RESULTS",
    "EVALUATION_SCORE",
    "HALLUCINATION_CHECKS",
    "METER_NAME",
    "OPERATION_DURATION",
    "OVERFLOW_VALUE",
    "RETRIEVAL_SCORE",
    "RUNS",
    "SELF_DROPPED",
    "SELF_GAUGE",
    "SELF_INTERNAL_ERRORS",
    "SELF_ORPHANED",
    "TIME_TO_FIRST_CHUNK",
    "TOKEN_BUCKETS",
    "TOKEN_USAGE",
    "TOOL_CALLS",
    "TOOL_DURATION",
    "CardinalityGuard",
    "EvaluationFacts",
    "EvaluationListener",
    "EvaluationMetrics",
    "MetricSpec",
    "MetricsSpanProcessor",
    "ObsMeterProvider",
    "PrometheusEndpoint",
    "SpanFacts",
    "SpanFactsListener",
    "build_meter_provider",
    "grafana_dashboard",
    "prometheus_label",
    "span_facts",
]
