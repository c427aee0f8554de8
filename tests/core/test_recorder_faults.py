"""Events out of order, bad values and abandoned runs: bounded outcomes, all counted."""

from __future__ import annotations

import gc
import time
import uuid

import pytest
from opentelemetry.trace import StatusCode

from _obs_support import Spans, attrs
from obs_core import (
    FinishedRun,
    Recorder,
    RecorderSettings,
    RunEnd,
    RunStart,
    SpanKind,
    self_metrics,
)
from obs_core import semconv as sc


def _id() -> uuid.UUID:
    return uuid.uuid4()


def test_end_without_start_is_counted(recorder: Recorder) -> None:
    recorder.end(_id())
    assert self_metrics()["dropped"]["end_without_start"] == 1


def test_double_end_and_error_after_end_are_counted_and_keep_the_first_outcome(
        recorder: Recorder, spans: Spans) -> None:
    run = _id()
    recorder.start(run, None, RunStart(kind=SpanKind.TOOL, name="t"))
    recorder.end(run)
    recorder.end(run)
    recorder.error(run, ValueError("late"))
    assert self_metrics()["dropped"]["double_end"] == 2
    assert spans.named("execute_tool t").status.status_code is StatusCode.OK


def test_duplicate_start_is_ignored_and_counted(recorder: Recorder, spans: Spans) -> None:
    run = _id()
    recorder.start(run, None, RunStart(kind=SpanKind.CHAIN, name="first"))
    recorder.start(run, None, RunStart(kind=SpanKind.CHAIN, name="second"))
    recorder.end(run)
    assert [s.name for s in spans.all] == ["first"]
    assert self_metrics()["dropped"]["duplicate_start"] == 1


def test_child_ending_after_its_parent_keeps_its_parent_link(recorder: Recorder, spans: Spans) -> None:
    parent, child = _id(), _id()
    recorder.start(parent, None, RunStart(kind=SpanKind.CHAIN, name="p"))
    recorder.start(child, parent, RunStart(kind=SpanKind.CHAIN, name="c"))
    recorder.end(parent)
    recorder.end(child)
    assert spans.parent_of(spans.named("c")) is spans.named("p")
    assert recorder.open_run_count == 0


def test_huge_strings_are_truncated_with_marker_and_original_length(spans: Spans) -> None:
    recorder = Recorder(tracer_provider=spans.provider,
                        settings=RecorderSettings(max_attribute_length=100))
    run = _id()
    recorder.start(run, None, RunStart(kind=SpanKind.CHAIN, name="c",
                                       attributes={"obs.note": "x" * 5_000_000}))
    recorder.end(run)
    attrs = spans.attrs("c")
    assert len(str(attrs["obs.note"])) == 100
    assert str(attrs["obs.note"]).endswith("[truncated]")
    assert attrs[sc.OBS_TRUNCATED_PREFIX + "obs.note"] == 5_000_000


def test_broken_unicode_becomes_valid_text(recorder: Recorder, spans: Spans) -> None:
    run = _id()
    recorder.start(run, None, RunStart(kind=SpanKind.CHAIN, name="c",
                                       attributes={"obs.note": "ok \ud800 bad"}))
    recorder.end(run)
    value = str(spans.attrs("c")["obs.note"])
    value.encode("utf-8")  # would raise on a lone surrogate
    assert value.startswith("ok ")


@pytest.mark.parametrize(
    "value",
    [b"\x00\xff", float("nan"), 10**40, {"a": {1, 2}}, object(), (i for i in range(3))],
    ids=["bytes", "nan", "huge-int", "set-in-dict", "object", "generator"],
)
def test_unserialisable_attribute_values_are_bounded(recorder: Recorder, spans: Spans, value: object) -> None:
    run = _id()
    recorder.start(run, None, RunStart(kind=SpanKind.CHAIN, name="c", attributes={"obs.value": value}))
    recorder.end(run)
    assert "obs.value" in spans.attrs("c")


def test_cyclic_metadata_does_not_hang(recorder: Recorder, spans: Spans) -> None:
    cyclic: dict[str, object] = {}
    cyclic["self"] = cyclic
    run = _id()
    recorder.start(run, None, RunStart(kind=SpanKind.CHAIN, name="c", attributes={"obs.cyclic": cyclic}))
    recorder.end(run)
    assert "<cycle>" in str(spans.attrs("c")["obs.cyclic"])


def test_sweeper_ends_abandoned_runs_as_orphans(recorder: Recorder, spans: Spans) -> None:
    stale = _id()
    recorder.start(stale, None, RunStart(kind=SpanKind.LLM, name="m", model="gpt-4o"))
    time.sleep(0.02)
    fresh = _id()
    recorder.start(fresh, None, RunStart(kind=SpanKind.CHAIN, name="fresh"))
    assert recorder.sweep(max_age_s=0.01) == 1
    span = spans.named("chat gpt-4o")
    assert span.status.status_code is StatusCode.ERROR
    assert attrs(span)[sc.ERROR_TYPE] == sc.ERROR_ORPHANED
    assert attrs(span)[sc.OBS_ORPHAN_REASON] == "timeout"
    assert self_metrics()["orphaned"]["total"] == 1
    assert recorder.is_open(fresh)
    recorder.end(fresh)


def test_background_sweeper_runs_on_its_own(spans: Spans) -> None:
    recorder = Recorder(tracer_provider=spans.provider,
                        settings=RecorderSettings(orphan_timeout_s=0.1))
    recorder.start(_id(), None, RunStart(kind=SpanKind.TOOL, name="never-ends"))
    deadline = time.monotonic() + 5
    while recorder.open_run_count and time.monotonic() < deadline:
        time.sleep(0.02)
    assert recorder.open_run_count == 0
    assert spans.attrs("execute_tool never-ends")[sc.ERROR_TYPE] == sc.ERROR_ORPHANED
    recorder.close()


def test_close_ends_every_open_run(spans: Spans) -> None:
    recorder = Recorder(tracer_provider=spans.provider)
    parent, child = _id(), _id()
    recorder.start(parent, None, RunStart(kind=SpanKind.CHAIN, name="p"))
    recorder.start(child, parent, RunStart(kind=SpanKind.CHAIN, name="c"))
    recorder.close()
    assert {s.name for s in spans.all} == {"p", "c"}
    assert all(attrs(s)[sc.OBS_ORPHAN_REASON] == "shutdown" for s in spans.all)


def test_open_run_limit_drops_and_counts_new_starts(spans: Spans) -> None:
    recorder = Recorder(tracer_provider=spans.provider, settings=RecorderSettings(max_open_runs=2))
    ids = [_id() for _ in range(3)]
    for run in ids:
        recorder.start(run, None, RunStart(kind=SpanKind.CHAIN, name="c"))
    assert recorder.open_run_count == 2
    assert self_metrics()["dropped"]["open_runs_limit"] == 1
    recorder.close()


@pytest.mark.lenient
def test_a_failing_observer_never_reaches_the_caller(spans: Spans) -> None:
    class Broken:
        def on_run_end(self, run: object) -> None:
            raise RuntimeError("observer bug")

    recorder = Recorder(tracer_provider=spans.provider, settings=RecorderSettings(observers=(Broken(),)))
    run = _id()
    recorder.start(run, None, RunStart(kind=SpanKind.CHAIN, name="c"))
    recorder.end(run, RunEnd())
    assert self_metrics()["internal_errors"]["recorder.observer"] == 1
    assert recorder.open_run_count == 0


def test_observers_get_finished_runs_with_span_ids_and_identity(spans: Spans) -> None:
    seen: list[FinishedRun] = []

    class Collect:
        def on_run_end(self, run: FinishedRun) -> None:
            seen.append(run)

    recorder = Recorder(tracer_provider=spans.provider, settings=RecorderSettings(observers=(Collect(),)))
    root, llm = _id(), _id()
    recorder.start(root, None, RunStart(kind=SpanKind.CHAIN, name="c", user_cohort="beta"))
    recorder.start(llm, root, RunStart(kind=SpanKind.LLM, name="m", model="gpt-4o", inputs=[{"role": "user", "content": "hi"}]))
    recorder.end(llm, RunEnd(outputs="hello"))
    recorder.end(root)
    first = seen[0]
    assert first.kind is SpanKind.LLM
    assert first.user_cohort == "beta"
    assert first.trace_id == f"{spans.named('c').context.trace_id:032x}"
    assert first.parent_span_id == f"{spans.named('c').context.span_id:016x}"
    assert first.start.inputs == [{"role": "user", "content": "hi"}]
    assert seen[1].is_root


def test_the_sweeper_of_a_discarded_recorder_stops(spans: Spans) -> None:
    recorder = Recorder(tracer_provider=spans.provider,
                        settings=RecorderSettings(orphan_timeout_s=0.1))
    recorder.start(_id(), None, RunStart(kind=SpanKind.TOOL, name="t"))
    sweeper = recorder._sweeper
    assert sweeper is not None
    del recorder
    gc.collect()
    sweeper.join(timeout=5)
    assert not sweeper.is_alive()
