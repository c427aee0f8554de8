"""Instruments fed by finished spans, and how one span's facts become measurements."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opentelemetry.context import Context
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


_Count = Callable[[Counter, float, dict[str, str], Context | None], None]
"""Adds to a counter now, or sums the increment into the current batch."""


def _count_now(counter: Counter, amount: float, attrs: dict[str, str],
               ctx: Context | None) -> None:
    counter.add(amount, attrs, ctx)


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
        self._pending: dict[tuple[int, tuple[tuple[str, str], ...]], list[Any]] = {}
        """Summed counter increments of the current batch: key -> [counter, sum, attrs, ctx]."""

    def _count_later(self, counter: Counter, amount: float, attrs: dict[str, str],
                     ctx: Context | None) -> None:
        key = (id(counter), tuple(attrs.items()))
        entry = self._pending.get(key)
        if entry is None:
            self._pending[key] = [counter, amount, attrs, ctx]
        else:
            entry[1] += amount
            entry[3] = ctx  # the exemplar, if one is sampled, points at the latest span

    def flush_counters(self) -> None:
        """Add the increments summed since the last flush."""
        pending, self._pending = self._pending, {}
        for counter, amount, attrs, ctx in pending.values():
            counter.add(amount, attrs, ctx)

    def record(self, f: SpanFacts, ctx: Context | None = None, *, batched: bool = False) -> None:
        """Record one span's facts; ``ctx`` is the context exemplars are taken from (the
        current one when ``None``). ``batched``: counter increments are summed per attribute
        set until :meth:`flush_counters` (histograms need every value, so they are recorded
        at once); for the deferred worker, where one ``add`` per batch instead of one per span
        saves most of the counters' cost."""
        count = self._count_later if batched else _count_now
        bound = self._guard.attributes
        slices = {
            sc.OBS_PIPELINE_VERSION: f.pipeline_version,
            sc.OBS_USER_COHORT: f.user_cohort,
        }
        run_attrs = bound({
            sc.OBS_SPAN_KIND: f.kind, sc.GEN_AI_REQUEST_MODEL: f.model,
            sc.ERROR_TYPE: f.error_type, **slices,
        })
        count(self._runs, 1, run_attrs, ctx)
        if f.error_type is not None:
            count(self._errors, 1, run_attrs, ctx)
        if f.kind in _MODEL_CALL_KINDS:
            self._record_model_call(f, slices, ctx, count)
        elif f.kind == "agent":
            attrs = bound({sc.GEN_AI_AGENT_NAME: f.agent_name or f.name, **slices})
            if f.agent_steps is not None:
                self._agent_steps.record(f.agent_steps, attrs, ctx)
            if f.agent_limit_hit:
                count(self._limit_hits, 1, attrs, ctx)
        elif f.kind == "tool":
            tool = {sc.GEN_AI_TOOL_NAME: f.tool_name or f.name, **slices}
            count(self._tool_calls, 1, bound({**tool, sc.ERROR_TYPE: f.error_type}), ctx)
            self._tool_duration.record(f.duration_s, bound(tool), ctx)
        elif f.kind == "retriever" and f.retrieval_scores:
            attrs = bound({sc.GEN_AI_DATA_SOURCE_ID: f.data_source or f.name, **slices})
            for score in f.retrieval_scores:
                self._retrieval.record(score, attrs, ctx)

    def _record_model_call(self, f: SpanFacts, slices: dict[str, str | None],
                           ctx: Context | None, count: _Count) -> None:
        bound = self._guard.attributes
        base = {
            sc.GEN_AI_OPERATION_NAME: f.operation or sc.OP_CHAT,
            sc.GEN_AI_PROVIDER_NAME: f.provider,
            sc.GEN_AI_REQUEST_MODEL: f.model,
            **slices,
        }
        self._duration.record(f.duration_s, bound({**base, sc.ERROR_TYPE: f.error_type}), ctx)
        base_attrs = bound(base)
        if f.time_to_first_chunk_s is not None:
            self._ttfc.record(f.time_to_first_chunk_s, base_attrs, ctx)
        if f.input_tokens:
            self._tokens.record(
                f.input_tokens, {**base_attrs, sc.GEN_AI_TOKEN_TYPE: sc.TOKEN_TYPE_INPUT}, ctx
            )
        if f.output_tokens:
            self._tokens.record(
                f.output_tokens, {**base_attrs, sc.GEN_AI_TOKEN_TYPE: sc.TOKEN_TYPE_OUTPUT}, ctx
            )
        if f.cost_usd:
            count(
                self._cost, f.cost_usd,
                bound({
                    sc.GEN_AI_PROVIDER_NAME: f.provider, sc.GEN_AI_REQUEST_MODEL: f.model,
                    **slices,
                }),
                ctx,
            )
