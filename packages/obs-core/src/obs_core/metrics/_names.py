"""Every instrument obs records, with its unit, buckets and the name Prometheus sees.

The alert rules file and the Grafana dashboard are generated from these specs, so a renamed
metric cannot leave a dangling PromQL expression behind (a test cross-checks the rendered names
against a real exporter scrape).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

InstrumentKind = Literal["counter", "histogram", "gauge"]

# Advisory boundaries from the GenAI metric conventions (v1.41.1).
TOKEN_BUCKETS: Final = (
    1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0,
    4194304.0, 16777216.0, 67108864.0,
)
DURATION_BUCKETS: Final = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)
STEP_BUCKETS: Final = (1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 21.0, 34.0, 55.0, 89.0)
SCORE_BUCKETS: Final = (
    0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0,
)


@dataclass(frozen=True, kw_only=True)
class MetricSpec:
    """One instrument: its OpenTelemetry identity and how the Prometheus exporter renders it."""

    name: str
    unit: str
    kind: InstrumentKind
    description: str
    buckets: tuple[float, ...] = ()

    @property
    def prometheus_name(self) -> str:
        """The family name in the exposition (before ``_bucket``/``_sum``/``_count``)."""
        return prometheus_family_name(self.name, self.unit, self.kind)

    def series(self, suffix: Literal["", "bucket", "sum", "count", "total"] = "") -> str:
        """A sample name as PromQL sees it: counters end in ``_total``, histograms have three."""
        base = self.prometheus_name
        if self.kind == "counter":
            return f"{base}_total"
        return f"{base}_{suffix}" if suffix else base


TOKEN_USAGE: Final = MetricSpec(
    name="gen_ai.client.token.usage", unit="{token}", kind="histogram",
    description="Number of input and output tokens used per model call.",
    buckets=TOKEN_BUCKETS,
)
OPERATION_DURATION: Final = MetricSpec(
    name="gen_ai.client.operation.duration", unit="s", kind="histogram",
    description="Duration of GenAI client operations (model and embedding calls).",
    buckets=DURATION_BUCKETS,
)
TIME_TO_FIRST_CHUNK: Final = MetricSpec(
    name="gen_ai.client.operation.time_to_first_chunk", unit="s", kind="histogram",
    description="Time from request to the first streamed chunk of a model response.",
    buckets=DURATION_BUCKETS,
)
RUNS: Final = MetricSpec(
    name="obs.runs", unit="{run}", kind="counter",
    description="Finished runs (spans) of every kind; the denominator of error rates.",
)
ERRORS: Final = MetricSpec(
    name="obs.errors", unit="{error}", kind="counter",
    description="Runs that ended with an error, by kind and error.type.",
)
COST: Final = MetricSpec(
    name="obs.usage.cost_usd", unit="{USD}", kind="counter",
    description="Estimated model spend in US dollars.",
)
AGENT_STEPS: Final = MetricSpec(
    name="obs.agent.steps", unit="{step}", kind="histogram",
    description="Model calls made by one agent run's own loop.",
    buckets=STEP_BUCKETS,
)
AGENT_LIMIT_HITS: Final = MetricSpec(
    name="obs.agent.limit_hits", unit="{run}", kind="counter",
    description="Agent runs stopped by their iteration or recursion limit.",
)
TOOL_CALLS: Final = MetricSpec(
    name="obs.tool.calls", unit="{call}", kind="counter",
    description="Tool invocations, by tool and error.type.",
)
TOOL_DURATION: Final = MetricSpec(
    name="obs.tool.duration", unit="s", kind="histogram",
    description="Tool invocation latency, by tool.",
    buckets=DURATION_BUCKETS,
)
RETRIEVAL_SCORE: Final = MetricSpec(
    name="obs.retrieval.similarity", unit="1", kind="histogram",
    description="Similarity scores of retrieved documents, by retriever.",
    buckets=SCORE_BUCKETS,
)
EVALUATION_SCORE: Final = MetricSpec(
    name="obs.evaluation.score", unit="1", kind="histogram",
    description="Evaluator scores, by evaluator, pipeline version and model.",
    buckets=SCORE_BUCKETS,
)
EVALUATION_RESULTS: Final = MetricSpec(
    name="obs.evaluation.results", unit="{evaluation}", kind="counter",
    description="Evaluation outcomes, by evaluator and pass/fail.",
)
HALLUCINATION_CHECKS: Final = MetricSpec(
    name="obs.evaluation.hallucination_checks", unit="{check}", kind="counter",
    description="Hallucination checks, split by whether the answer was flagged.",
)
DRIFT_DETECTED: Final = MetricSpec(
    name="obs.drift.detected", unit="1", kind="gauge",
    description="1 while the latest drift check found drift, else 0, per retriever and signal.",
)
DRIFT_KS: Final = MetricSpec(
    name="obs.drift.ks_statistic", unit="1", kind="gauge",
    description="Kolmogorov-Smirnov distance between reference and current windows.",
)
DRIFT_PSI: Final = MetricSpec(
    name="obs.drift.psi", unit="1", kind="gauge",
    description="Population stability index between reference and current windows.",
)
ALERTS_FIRING: Final = MetricSpec(
    name="obs.alerts.firing", unit="{alert}", kind="gauge",
    description="Alerts currently firing in the in-process engine, by rule.",
)
SELF_INTERNAL_ERRORS: Final = MetricSpec(
    name="obs.self.internal_errors", unit="{error}", kind="counter",
    description="Exceptions raised inside obs and contained before reaching the application.",
)
SELF_DROPPED: Final = MetricSpec(
    name="obs.self.dropped", unit="{item}", kind="counter",
    description="Spans, records, evaluations or values obs discarded, by reason.",
)
SELF_ORPHANED: Final = MetricSpec(
    name="obs.self.orphaned_spans", unit="{span}", kind="counter",
    description="Spans ended by the sweeper because their run never finished.",
)
SELF_GAUGE: Final = MetricSpec(
    name="obs.self.gauge", unit="1", kind="gauge",
    description="Live internal levels: open spans, queue depths.",
)

ALL_METRICS: Final = (
    TOKEN_USAGE, OPERATION_DURATION, TIME_TO_FIRST_CHUNK, RUNS, ERRORS, COST, AGENT_STEPS,
    AGENT_LIMIT_HITS, TOOL_CALLS, TOOL_DURATION, RETRIEVAL_SCORE, EVALUATION_SCORE,
    EVALUATION_RESULTS, HALLUCINATION_CHECKS, DRIFT_DETECTED, DRIFT_KS, DRIFT_PSI, ALERTS_FIRING,
    SELF_INTERNAL_ERRORS, SELF_DROPPED, SELF_ORPHANED, SELF_GAUGE,
)
"""Every metric obs can export (the self-metrics are created by ``obs_core._selfmetrics``)."""

# What the OpenTelemetry Prometheus exporter does to names and units (its compatibility spec):
# non [a-zA-Z0-9:] runs become "_", UCUM annotations like {token} vanish, a few units map to
# words, and the unit is appended unless the name already ends with it.
_NAME_RE = re.compile(r"[^a-zA-Z0-9:]+")
_UNIT_WORDS = {"s": "seconds", "ms": "milliseconds", "By": "bytes", "1": "", "%": "percent"}
_ANNOTATION_RE = re.compile(r"{.*}")


def prometheus_label(key: str) -> str:
    """An attribute key as a Prometheus label name (``gen_ai.request.model`` → ``gen_ai_request_model``)."""
    return re.sub(r"[^a-zA-Z0-9]+", "_", key)


def prometheus_family_name(name: str, unit: str, kind: InstrumentKind) -> str:
    family = _NAME_RE.sub("_", name)
    word = _ANNOTATION_RE.sub("", unit)
    word = _UNIT_WORDS.get(word, _NAME_RE.sub("_", word).strip("_"))
    if word and not family.endswith("_" + word):
        family = f"{family}_{word}"
    if kind == "counter" and family.endswith("_total"):
        family = family[: -len("_total")]
    return family
