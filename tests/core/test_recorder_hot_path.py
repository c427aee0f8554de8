"""What the recorder does off the application's thread, and what it skips on it: span metrics
are derived by a background worker (with exemplars still pointing at their span), finished-run
records are built only for kinds some observer wants, and the guard contains errors without a
generator per use."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    HistogramDataPoint,
    InMemoryMetricReader,
    NumberDataPoint,
)

from _obs_support import Spans
from obs_core import (
    Recorder,
    RecorderSettings,
    RunEnd,
    RunStart,
    SpanKind,
    TokenUsage,
    UsageSource,
    self_metrics,
)
from obs_core._deferred import DeferredWork, drain_all
from obs_core._guard import guard, set_strict
from obs_core._selfmetrics import reset as reset_self_metrics
from obs_core.runs import FinishedRun


@pytest.fixture
def reader() -> InMemoryMetricReader:
    return InMemoryMetricReader()


@pytest.fixture
def metered(spans: Spans, reader: InMemoryMetricReader) -> Iterator[Recorder]:
    provider = MeterProvider(metric_readers=[reader])
    rec = Recorder(tracer_provider=spans.provider, meter_provider=provider)
    yield rec
    rec.close()
    provider.shutdown()


def _points(reader: InMemoryMetricReader, name: str) -> list[NumberDataPoint | HistogramDataPoint]:
    data = reader.get_metrics_data()
    found: list[NumberDataPoint | HistogramDataPoint] = []
    for rm in data.resource_metrics if data is not None else ():
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                if metric.name == name:
                    found.extend(metric.data.data_points)  # type: ignore[arg-type]
    return found


def _llm_run(recorder: Recorder) -> None:
    run = uuid.uuid4()
    recorder.start(run, None, RunStart(kind=SpanKind.LLM, name="m", model="gpt-4o-mini",
                                       provider="openai"))
    recorder.end(run, RunEnd(usage=TokenUsage(input_tokens=7, output_tokens=3,
                                              source=UsageSource.PROVIDER)))


def test_span_metrics_are_recorded_once_the_deferred_work_is_drained(
        metered: Recorder, reader: InMemoryMetricReader) -> None:
    for _ in range(3):
        _llm_run(metered)
    assert drain_all(5.0)
    runs = _points(reader, "obs.runs")
    assert sum(p.value for p in runs if isinstance(p, NumberDataPoint)) == 3


def test_counter_increments_summed_per_batch_equal_one_add_per_span(
        metered: Recorder, reader: InMemoryMetricReader) -> None:
    for _ in range(50):
        _llm_run(metered)
    drain_all(5.0)
    tokens = [p for p in _points(reader, "gen_ai.client.token.usage")
              if isinstance(p, HistogramDataPoint)]
    assert sorted(p.sum for p in tokens) == [150, 350]  # every value still recorded
    (runs,) = _points(reader, "obs.runs")
    assert isinstance(runs, NumberDataPoint)
    assert runs.value == 50


def test_deferred_metrics_keep_exemplars_pointing_at_the_measured_span(
        metered: Recorder, reader: InMemoryMetricReader, spans: Spans) -> None:
    _llm_run(metered)
    drain_all(5.0)
    span = spans.named("chat gpt-4o-mini")
    (duration,) = _points(reader, "gen_ai.client.operation.duration")
    assert duration.exemplars, "a sampled span yields an exemplar"
    exemplar = duration.exemplars[0]
    assert (exemplar.trace_id, exemplar.span_id) == (span.context.trace_id, span.context.span_id)


def test_metrics_are_not_derived_on_the_thread_that_ends_the_span(
        spans: Spans, reader: InMemoryMetricReader) -> None:
    seen: list[str] = []

    class Listener:
        def on_span_facts(self, facts: object) -> None:
            seen.append(threading.current_thread().name)

    provider = MeterProvider(metric_readers=[reader])
    rec = Recorder(tracer_provider=spans.provider, meter_provider=provider,
                   settings=RecorderSettings(span_listeners=(Listener(),)))
    _llm_run(rec)
    drain_all(5.0)
    rec.close()
    assert seen
    assert threading.current_thread().name not in seen


def test_a_full_deferred_queue_drops_and_counts() -> None:
    reset_self_metrics()
    work = DeferredWork(name="test_full", drop_reason="test_queue_full", max_queue=2,
                        interval_s=60.0)
    done: list[int] = []
    accepted = [work.submit(done.append, i) for i in range(4)]
    assert accepted == [True, True, False, False]
    assert self_metrics()["dropped"]["test_queue_full"] == 2
    assert work.drain(5.0)
    assert done == [0, 1]


class _Collector:
    def __init__(self, kinds: frozenset[SpanKind] | None) -> None:
        self.runs: list[FinishedRun] = []
        if kinds is not None:
            self.run_kinds = kinds

    def on_run_end(self, run: FinishedRun) -> None:
        self.runs.append(run)


def _chain_with_model(recorder: Recorder) -> None:
    chain, model = uuid.uuid4(), uuid.uuid4()
    recorder.start(chain, None, RunStart(kind=SpanKind.CHAIN, name="c"))
    recorder.start(model, chain, RunStart(kind=SpanKind.LLM, name="m", model="m"))
    recorder.end(model)
    recorder.end(chain)


def test_observers_that_declare_run_kinds_get_only_those_runs(spans: Spans) -> None:
    models_only = _Collector(frozenset({SpanKind.LLM}))
    rec = Recorder(tracer_provider=spans.provider,
                   settings=RecorderSettings(observers=(models_only,)))
    _chain_with_model(rec)
    assert [r.kind for r in models_only.runs] == [SpanKind.LLM]


def test_an_observer_without_run_kinds_still_gets_every_run(spans: Spans) -> None:
    models_only, everything = _Collector(frozenset({SpanKind.LLM})), _Collector(None)
    rec = Recorder(tracer_provider=spans.provider,
                   settings=RecorderSettings(observers=(models_only, everything)))
    _chain_with_model(rec)
    assert [r.kind for r in everything.runs] == [SpanKind.LLM, SpanKind.CHAIN]
    assert [r.kind for r in models_only.runs] == [SpanKind.LLM, SpanKind.CHAIN]


def test_guard_swallows_exceptions_and_leaves_others_alone() -> None:
    set_strict(False)
    try:
        with guard("test.guard"):
            raise ValueError("contained")
        with pytest.raises(KeyboardInterrupt), guard("test.guard"):
            raise KeyboardInterrupt
    finally:
        set_strict(None)


def test_guard_reraises_under_strict_mode() -> None:
    set_strict(True)
    try:
        with pytest.raises(ValueError, match="visible"), guard("test.guard"):
            raise ValueError("visible")
    finally:
        set_strict(None)
