"""Reference-versus-current drift detection over retrieval scores and embeddings.

Samples arrive on span-ending threads and only land in bounded buffers; :meth:`check` does the
statistics and runs on the alert engine's evaluator thread (or whenever the caller asks).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from opentelemetry import trace
from opentelemetry.metrics import CallbackOptions, MeterProvider, Observation
from opentelemetry.trace import Link, SpanContext, TraceFlags, TracerProvider

from obs_core import _selfmetrics
from obs_core import semconv as sc
from obs_core._guard import guard
from obs_core.drift import _stats
from obs_core.drift._result import (
    SIGNAL_QUERY_EMBEDDING,
    SIGNAL_RETRIEVAL_SCORE,
    DriftConfig,
    DriftListener,
    DriftResult,
)
from obs_core.metrics import DRIFT_DETECTED, DRIFT_KS, DRIFT_PSI, METER_NAME, SpanFacts

_Key = tuple[str, str]  # (source, signal)
MAX_STREAMS = 100
"""Distinct (source, signal) pairs tracked; more are dropped and counted."""


@dataclass(kw_only=True)
class _Stream:
    reference: list[float] = field(default_factory=list)
    reference_vectors: list[list[float]] = field(default_factory=list)
    reference_frozen: bool = False
    current: deque[float] = field(default_factory=deque)
    current_vectors: deque[list[float]] = field(default_factory=deque)
    last_trace_id: int = 0
    last_span_id: int = 0
    last_detected: bool | None = None


class DriftDetector:
    """Compares each retriever's recent similarity scores (and, when fed, query/answer
    embeddings) with a frozen reference window.

    Results go to metrics (``obs.drift.*`` gauges), to listeners such as the alert engine, and,
    when drift starts or stops, to a short ``obs.drift.check`` span linked to the latest span that
    fed the window.
    """

    def __init__(
        self,
        config: DriftConfig | None = None,
        *,
        meter_provider: MeterProvider | None = None,
        tracer_provider: TracerProvider | None = None,
        listeners: Iterable[DriftListener] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config if config is not None else DriftConfig()
        self._clock = clock
        self._lock = threading.Lock()
        self._streams: dict[_Key, _Stream] = {}
        self._latest: dict[_Key, DriftResult] = {}
        self._listeners: tuple[DriftListener, ...] = tuple(listeners)
        self._tracer = (tracer_provider or trace.get_tracer_provider()).get_tracer("obs.drift")
        if meter_provider is not None:
            self._register_gauges(meter_provider)

    def add_listener(self, listener: DriftListener) -> None:
        with self._lock:
            self._listeners = (*self._listeners, listener)

    # --- input (span-ending threads: bounded appends only) ------------------------------------
    def on_span_facts(self, facts: SpanFacts) -> None:
        """Listener hook for :class:`~obs_core.metrics.MetricsSpanProcessor`."""
        if facts.kind == "retriever" and facts.retrieval_scores:
            self.observe_scores(facts.data_source or facts.name, facts.retrieval_scores,
                                trace_id=facts.trace_id, span_id=facts.span_id)

    def observe_scores(self, source: str, scores: Sequence[float], *, trace_id: int = 0,
                       span_id: int = 0) -> None:
        """Similarity scores of one retrieval from ``source``."""
        with self._lock:
            stream = self._stream((source, SIGNAL_RETRIEVAL_SCORE))
            if stream is None:
                return
            for score in scores:
                self._add(stream, float(score))
            stream.last_trace_id, stream.last_span_id = trace_id, span_id

    def observe_embedding(self, vector: Sequence[float], *, signal: str = SIGNAL_QUERY_EMBEDDING,
                          source: str = "default", trace_id: int = 0, span_id: int = 0) -> None:
        """One query or answer embedding (``signal`` names which)."""
        vec = [float(x) for x in vector]
        if not vec:
            return
        with self._lock:
            stream = self._stream((source, signal))
            if stream is None:
                return
            cfg = self.config
            known = stream.reference_vectors[0] if stream.reference_vectors else None
            if known is not None and len(known) != len(vec):
                _selfmetrics.count_drop("drift_embedding_dimension_mismatch")
                return
            if not stream.reference_frozen:
                stream.reference_vectors.append(vec)
                stream.reference_frozen = len(stream.reference_vectors) >= cfg.reference_size
            else:
                stream.current_vectors.append(vec)
                while len(stream.current_vectors) > cfg.current_size:
                    stream.current_vectors.popleft()
            stream.last_trace_id, stream.last_span_id = trace_id, span_id

    def set_reference(self, source: str, values: Sequence[float], *,
                      signal: str = SIGNAL_RETRIEVAL_SCORE) -> None:
        """Use ``values`` as the baseline (e.g. scores from an evaluation set) and restart the
        current window."""
        with self._lock:
            stream = self._stream((source, signal), create=True)
            if stream is None:
                return
            stream.reference = [float(v) for v in values][-self.config.reference_size:]
            stream.reference_frozen = True
            stream.current.clear()

    def reset_reference(self, source: str, *, signal: str = SIGNAL_RETRIEVAL_SCORE) -> None:
        """Forget the baseline: the next samples become the new reference (after a re-index)."""
        with self._lock:
            self._streams.pop((source, signal), None)
            self._latest.pop((source, signal), None)

    # --- evaluation (evaluator thread) --------------------------------------------------------
    def check(self) -> list[DriftResult]:
        """Test every stream that has enough samples; publish and return the results."""
        with self._lock:
            snapshot = [(key, self._snapshot(s)) for key, s in self._streams.items()]
        results: list[DriftResult] = []
        for key, data in snapshot:
            result = self._compare(key, *data)
            if result is not None:
                results.append(result)
        for result in results:
            self._publish(result)
        return results

    def latest(self) -> list[DriftResult]:
        with self._lock:
            return list(self._latest.values())

    # --- internals ----------------------------------------------------------------------------
    def _stream(self, key: _Key, *, create: bool = True) -> _Stream | None:
        stream = self._streams.get(key)
        if stream is None and create:
            if len(self._streams) >= MAX_STREAMS:
                _selfmetrics.count_drop("drift_stream_overflow")
                return None
            stream = self._streams[key] = _Stream()
        return stream

    def _add(self, stream: _Stream, value: float) -> None:
        if value != value:
            return
        if not stream.reference_frozen:
            stream.reference.append(value)
            stream.reference_frozen = len(stream.reference) >= self.config.reference_size
            return
        stream.current.append(value)
        while len(stream.current) > self.config.current_size:
            stream.current.popleft()

    @staticmethod
    def _snapshot(s: _Stream) -> tuple[list[float], list[float], list[list[float]],
                                       list[list[float]], int, int]:
        return (list(s.reference), list(s.current), list(s.reference_vectors),
                list(s.current_vectors), s.last_trace_id, s.last_span_id)

    def _compare(self, key: _Key, reference: list[float], current: list[float],
                 ref_vectors: list[list[float]], cur_vectors: list[list[float]],
                 trace_id: int, span_id: int) -> DriftResult | None:
        cfg = self.config
        distance: float | None = None
        if ref_vectors:
            center = _stats.centroid(ref_vectors)
            reference = [_stats.cosine(v, center) for v in ref_vectors]
            current = [_stats.cosine(v, center) for v in cur_vectors]
            if cur_vectors:
                distance = 1.0 - _stats.cosine(center, _stats.centroid(cur_vectors))
        if len(reference) < cfg.min_reference or len(current) < cfg.min_current:
            return None
        ks = _stats.ks_two_sample(reference, current)
        index = _stats.psi(reference, current, bins=cfg.bins)
        detected = ks.p_value < cfg.ks_alpha and index >= cfg.psi_threshold
        if distance is not None and cfg.centroid_threshold is not None:
            detected = detected or distance >= cfg.centroid_threshold
        return DriftResult(
            source=key[0], signal=key[1], detected=detected, ks_statistic=ks.statistic,
            p_value=ks.p_value, psi=index,
            mean_shift=_stats.mean(current) - _stats.mean(reference),
            reference_size=len(reference), current_size=len(current),
            checked_at=self._clock(), centroid_distance=distance,
            trace_id=trace_id, span_id=span_id,
        )

    def _publish(self, result: DriftResult) -> None:
        key = (result.source, result.signal)
        with self._lock:
            self._latest[key] = result
            stream = self._streams.get(key)
            # Drift starting or ending is news; a steady state is not (the gauges carry it).
            changed = stream is not None and bool(stream.last_detected) != result.detected
            if stream is not None:
                stream.last_detected = result.detected
        if changed:
            with guard("drift.span"):
                self._emit_span(result)
        for listener in self._listeners:
            with guard("drift.listener"):
                listener.on_drift(result)

    def _emit_span(self, result: DriftResult) -> None:
        links = []
        if result.trace_id and result.span_id:
            links.append(Link(SpanContext(result.trace_id, result.span_id, is_remote=False,
                                          trace_flags=TraceFlags(TraceFlags.SAMPLED))))
        attributes: dict[str, str | bool | int | float] = {
            sc.GEN_AI_DATA_SOURCE_ID: result.source,
            sc.OBS_DRIFT_SIGNAL: result.signal,
            sc.OBS_DRIFT_DETECTED: result.detected,
            sc.OBS_DRIFT_KS_STATISTIC: result.ks_statistic,
            sc.OBS_DRIFT_P_VALUE: result.p_value,
            sc.OBS_DRIFT_PSI: result.psi,
            sc.OBS_DRIFT_MEAN_SHIFT: result.mean_shift,
            sc.OBS_DRIFT_REFERENCE_SIZE: result.reference_size,
            sc.OBS_DRIFT_CURRENT_SIZE: result.current_size,
        }
        if result.centroid_distance is not None:
            attributes[sc.OBS_DRIFT_CENTROID_DISTANCE] = result.centroid_distance
        # A root span of its own: the drift belongs to the index, not to one request.
        span = self._tracer.start_span(sc.SPAN_NAME_DRIFT_CHECK, context=trace.set_span_in_context(
            trace.INVALID_SPAN), links=links, attributes=attributes)
        span.add_event("obs.drift.result", {"summary": result.summary})
        span.end()

    def _register_gauges(self, provider: MeterProvider) -> None:
        meter = provider.get_meter(METER_NAME)

        def reader(pick: Callable[[DriftResult], float]) -> Callable[[CallbackOptions],
                                                                     Iterable[Observation]]:
            def observe(_: CallbackOptions) -> Iterable[Observation]:
                return [Observation(pick(r), {sc.GEN_AI_DATA_SOURCE_ID: r.source,
                                              sc.OBS_DRIFT_SIGNAL: r.signal})
                        for r in self.latest()]
            return observe

        for spec, pick in ((DRIFT_DETECTED, lambda r: 1.0 if r.detected else 0.0),
                           (DRIFT_KS, lambda r: r.ks_statistic), (DRIFT_PSI, lambda r: r.psi)):
            meter.create_observable_gauge(spec.name, [reader(pick)], unit=spec.unit,
                                          description=spec.description)
