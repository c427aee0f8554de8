"""Instruments fed by finished spans, and how one span's facts become measurements."""

from __future__ import annotations

from opentelemetry.metrics import Counter, Histogram, Meter

from obs_core import semconv as sc
from obs_core.metrics import _names as n
from obs_core.metrics._cardinality import CardinalityGuard
from obs_core.metrics._facts import SpanFacts

_MODEL_CALL_KINDS = frozenset({"llm", "embedding"})


def create_counter(meter: Meter, spec: n.MetricSpec) -> Counter:
    return meter.create_counter(spec.name, unit=spec.unit, description=spec.description)


def create_histogram(meter: Meter, spec: n.MetricSpec) -> Histogram:
    return meter.create_histogram(
        spec.name, unit=spec.unit, description=spec.description,
        explicit_bucket_boundaries_advisory=list(spec.buckets),
    )


class SpanInstruments:
    """The span-derived instruments on one meter. ``record`` runs on the span-ending thread."""

    def __init__(self, meter: Meter, guard: CardinalityGuard) -> None:
        self._guard = guard
        self._tokens = create_histogram(meter, n.TOKEN_USAGE)
        self._duration = create_histogram(meter, n.OPERATION_DURATION)
        self._ttfc = create_histogram(meter, n.TIME_TO_FIRST_CHUNK)
        self._runs = create_counter(meter, n.RUNS)
        self._errors = create_counter(meter, n.ERRORS)
        self._cost = create_counter(meter, n.COST)
        self._agent_steps = create_histogram(meter, n.AGENT_STEPS)
        self._limit_hits = create_counter(meter, n.AGENT_LIMIT_HITS)
        self._tool_calls = create_counter(meter, n.TOOL_CALLS)
        self._tool_duration = create_histogram(meter, n.TOOL_DURATION)
        self._retrieval = create_histogram(meter, n.RETRIEVAL_SCORE)

    def record(self, f: SpanFacts) -> None:
        bound = self._guard.attributes
        slices = {
            sc.OBS_PIPELINE_VERSION: f.pipeline_version,
            sc.OBS_USER_COHORT: f.user_cohort,
        }
        run_attrs = bound({
            sc.OBS_SPAN_KIND: f.kind, sc.GEN_AI_REQUEST_MODEL: f.model,
            sc.ERROR_TYPE: f.error_type, **slices,
        })
        self._runs.add(1, run_attrs)
        if f.error_type is not None:
            self._errors.add(1, run_attrs)
        if f.kind in _MODEL_CALL_KINDS:
            self._record_model_call(f, slices)
        elif f.kind == "agent":
            attrs = bound({sc.GEN_AI_AGENT_NAME: f.agent_name or f.name, **slices})
            if f.agent_steps is not None:
                self._agent_steps.record(f.agent_steps, attrs)
            if f.agent_limit_hit:
                self._limit_hits.add(1, attrs)
        elif f.kind == "tool":
            tool = {sc.GEN_AI_TOOL_NAME: f.tool_name or f.name, **slices}
            self._tool_calls.add(1, bound({**tool, sc.ERROR_TYPE: f.error_type}))
            self._tool_duration.record(f.duration_s, bound(tool))
        elif f.kind == "retriever" and f.retrieval_scores:
            attrs = bound({sc.GEN_AI_DATA_SOURCE_ID: f.data_source or f.name, **slices})
            for score in f.retrieval_scores:
                self._retrieval.record(score, attrs)

    def _record_model_call(self, f: SpanFacts, slices: dict[str, str | None]) -> None:
        bound = self._guard.attributes
        base = {
            sc.GEN_AI_OPERATION_NAME: f.operation or sc.OP_CHAT,
            sc.GEN_AI_PROVIDER_NAME: f.provider,
            sc.GEN_AI_REQUEST_MODEL: f.model,
            **slices,
        }
        self._duration.record(f.duration_s, bound({**base, sc.ERROR_TYPE: f.error_type}))
        base_attrs = bound(base)
        if f.time_to_first_chunk_s is not None:
            self._ttfc.record(f.time_to_first_chunk_s, base_attrs)
        if f.input_tokens:
            self._tokens.record(
                f.input_tokens, {**base_attrs, sc.GEN_AI_TOKEN_TYPE: sc.TOKEN_TYPE_INPUT}
            )
        if f.output_tokens:
            self._tokens.record(
                f.output_tokens, {**base_attrs, sc.GEN_AI_TOKEN_TYPE: sc.TOKEN_TYPE_OUTPUT}
            )
        if f.cost_usd:
            self._cost.add(
                f.cost_usd,
                bound({
                    sc.GEN_AI_PROVIDER_NAME: f.provider, sc.GEN_AI_REQUEST_MODEL: f.model,
                    **slices,
                }),
            )
