"""Payload sampling: a share of traces, chosen by trace id the way OpenTelemetry's ratio
sampler chooses, each trace kept or skipped whole."""

from __future__ import annotations

from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.trace.sampling import Decision, TraceIdRatioBased

import obs_core
from core.payloads.payload_factories import chat, make_capture, make_run
from obs_core import ObsConfigError
from obs_core.payloads import PayloadCapture, PayloadSettings, SQLitePayloadStore
from obs_core.spans import SpanKind

_IDS = RandomIdGenerator()


def trace_id() -> str:
    """An id as the SDK makes them (a UUID4's variant bits would fix the lower half's top)."""
    return f"{_IDS.generate_trace_id():032x}"


def _stored_traces(capture: PayloadCapture, store: SQLitePayloadStore,
                   traces: list[str]) -> set[str]:
    assert capture.flush(5)
    return {t for t in traces if store.get_trace(t)}


def test_the_traces_kept_are_those_an_otel_ratio_sampler_samples_at_the_same_rate(
        store: SQLitePayloadStore) -> None:
    capture = make_capture(store, sample_rate=0.25)
    traces = [trace_id() for _ in range(400)]
    for t in traces:
        capture.on_run_end(make_run(SpanKind.LLM, inputs=chat("hi"), trace=t))
    stored = _stored_traces(capture, store, traces)
    capture.close()
    sampler = TraceIdRatioBased(0.25)
    expected = {t for t in traces
                if sampler.should_sample(None, int(t, 16), "chat").decision is Decision.RECORD_AND_SAMPLE}
    assert stored == expected
    assert 60 <= len(stored) <= 140  # about a quarter of 400


def test_a_trace_is_kept_or_skipped_with_all_its_records(store: SQLitePayloadStore) -> None:
    capture = make_capture(store, sample_rate=0.5)
    kept, skipped = "ab" * 8 + "0" * 16, "ab" * 8 + "f" * 16  # lowest and highest lower half
    for t in (kept, skipped):
        for kind in (SpanKind.LLM, SpanKind.TOOL, SpanKind.RETRIEVER):
            capture.on_run_end(make_run(kind, inputs={"q": "hi"}, outputs="ok", trace=t))
    assert capture.flush(5)
    capture.close()
    assert len(store.get_trace(kept)) == 3
    assert store.get_trace(skipped) == []


def test_a_zero_rate_captures_nothing(store: SQLitePayloadStore) -> None:
    capture = make_capture(store, sample_rate=0.0)
    traces = [trace_id() for _ in range(20)]
    for t in traces:
        capture.on_run_end(make_run(SpanKind.LLM, inputs=chat("hi"), trace=t))
    assert _stored_traces(capture, store, traces) == set()
    capture.close()


def test_a_rate_outside_zero_to_one_is_a_config_error() -> None:
    with pytest.raises(ObsConfigError, match="sample_rate"):
        PayloadSettings(sample_rate=1.5)


def test_configure_takes_the_rate_from_the_environment(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OBS_PAYLOAD_SAMPLE_RATE", "0.1")
    try:
        runtime = obs_core.configure(tracer_provider=TracerProvider(), trace_store=False,
                                     payload_store=tmp_path / "payloads.db")
        [capture] = [o for o in runtime.settings.observers if isinstance(o, PayloadCapture)]
        assert capture.sample_rate == 0.1
        with pytest.raises(ObsConfigError, match="sample_rate"):
            obs_core.configure(tracer_provider=TracerProvider(), trace_store=False,
                               payload_store=tmp_path / "payloads.db", payload_sample_rate=-0.5)
    finally:
        obs_core.shutdown(timeout_s=1)
