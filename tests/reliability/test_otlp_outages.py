"""An OTLP collector that refuses, black-holes or answers slowly never slows or breaks the
instrumented application; exports give up within a bound and every lost span is counted.

Each fault is measured once (module fixture): the median latency of an instrumented LCEL chain
against the healthy median, exceptions seen by the application, shutdown time, and the span
accounting (received + counted as dropped == ended).
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable
from opentelemetry.sdk.trace import TracerProvider

import obs_core
from _obs_support import Received, otlp_http_receiver
from obs_core import Recorder, RunStart, SpanKind, set_strict
from obs_core._selfmetrics import reset as reset_self_metrics
from obs_langchain import ObsCallbackHandler
from reliability._faults import (
    EndedSpans,
    black_hole,
    closed_port,
    median_ms,
    within_noise,
)

pytestmark = [pytest.mark.slow, pytest.mark.lenient]

RUNS = 40
SHUTDOWN_TIMEOUT_S = 1.0
SHUTDOWN_HARD_BOUND_S = 15.0
"""Far beyond the requested timeout: anything past it is a hang, not a slow give-up."""
BURST = 9_000
"""Spans pushed at once into a collector that never answers: more than the export queue holds."""
WORKER_EXIT_S = 15.0
"""An abandoned export thread ends when the OTLP exporter's request timeout (5 s) expires."""


def _chain() -> Runnable[dict[str, str], str]:
    prompt = ChatPromptTemplate.from_messages([("user", "{question}")])
    return prompt | FakeListChatModel(responses=["fine"]) | StrOutputParser()


@dataclass(kw_only=True)
class Outcome:
    kind: str
    healthy_ms: float
    faulty_ms: float
    app_errors: list[BaseException]
    wrong_results: int
    shutdown_s: float
    ended: int
    received: int
    dropped: dict[str, int]
    received_eventually: int
    dropped_eventually: dict[str, int]
    worker_alive: bool

    @property
    def counted_drops(self) -> int:
        return sum(v for k, v in self.dropped.items() if k.endswith(".otlp"))

    @property
    def counted_drops_eventually(self) -> int:
        return sum(v for k, v in self.dropped_eventually.items() if k.endswith(".otlp"))


def _measure(endpoint: str, received: Received, *, burst: int = 0) -> tuple[float, Outcome]:
    """Configure OTLP export to ``endpoint``, time the chain, then shut down."""
    provider = TracerProvider()
    ended = EndedSpans()
    provider.add_span_processor(ended)
    runtime = obs_core.configure(tracer_provider=provider, trace_store=False,
                                 capture_content="none", otlp_endpoint=endpoint,
                                 otlp_protocol="http/protobuf")
    workers = [getattr(p, "_thread", None) for p in runtime.processors]
    handler = ObsCallbackHandler(tracer_provider=provider)
    chain = _chain()
    errors: list[BaseException] = []
    wrong = 0

    def run() -> None:
        nonlocal wrong
        try:
            if chain.invoke({"question": "ping"}, config={"callbacks": [handler]}) != "fine":
                wrong += 1
        except Exception as exc:
            errors.append(exc)

    latency = median_ms(run, runs=RUNS)
    if burst:
        recorder = Recorder(tracer_provider=provider, settings=obs_core.current_settings())
        for _ in range(burst):
            run_id = uuid.uuid4()
            recorder.start(run_id, None, RunStart(kind=SpanKind.CHAIN, name="burst"))
            recorder.end(run_id)
    started = time.perf_counter()
    obs_core.shutdown(timeout_s=SHUTDOWN_TIMEOUT_S)
    shutdown_s = time.perf_counter() - started
    at_shutdown = dict(obs_core.self_metrics()["dropped"])
    received_at_shutdown = received.count
    handler.close()
    # An export thread that outlives shutdown must not count drops into later tests.
    for worker in workers:
        if worker is not None:
            worker.join(WORKER_EXIT_S)
    return latency, Outcome(
        kind="", healthy_ms=0.0, faulty_ms=latency, app_errors=errors, wrong_results=wrong,
        shutdown_s=shutdown_s, ended=ended.count, received=received_at_shutdown,
        dropped=at_shutdown, received_eventually=received.count,
        dropped_eventually=dict(obs_core.self_metrics()["dropped"]),
        worker_alive=any(w is not None and w.is_alive() for w in workers))


@pytest.fixture(scope="module")
def healthy_ms() -> float:
    set_strict(False)
    try:
        with otlp_http_receiver() as (endpoint, received):
            latency, outcome = _measure(endpoint, received)
        assert outcome.received == outcome.ended > 0
        return latency
    finally:
        set_strict(None)


@contextlib.contextmanager
def _fault(kind: str) -> Iterator[tuple[str, Received]]:
    if kind == "refused":
        yield f"http://127.0.0.1:{closed_port()}", Received()
    elif kind == "black-hole":
        with black_hole() as port:
            yield f"http://127.0.0.1:{port}", Received()
    else:
        with otlp_http_receiver(delay_s=0.3) as pair:
            yield pair


@pytest.fixture(scope="module", params=["refused", "slow", "black-hole"])
def outage(request: pytest.FixtureRequest, healthy_ms: float) -> Outcome:
    set_strict(False)
    reset_self_metrics()
    try:
        with _fault(request.param) as (endpoint, received):
            burst = BURST if request.param == "black-hole" else 0
            _, outcome = _measure(endpoint, received, burst=burst)
    finally:
        set_strict(None)
        reset_self_metrics()
    outcome.healthy_ms = healthy_ms
    outcome.kind = request.param
    return outcome


def test_application_latency_stays_within_noise_of_the_healthy_case(outage: Outcome) -> None:
    assert within_noise(outage.faulty_ms, outage.healthy_ms), outage


def test_no_exception_or_changed_result_reaches_the_application(outage: Outcome) -> None:
    assert outage.app_errors == []
    assert outage.wrong_results == 0


def test_shutdown_gives_up_within_a_hard_bound(outage: Outcome) -> None:
    assert outage.shutdown_s < SHUTDOWN_HARD_BOUND_S, outage


def test_the_export_thread_ends_after_shutdown(outage: Outcome) -> None:
    assert not outage.worker_alive


def test_every_span_is_eventually_received_or_counted_as_dropped(outage: Outcome) -> None:
    assert outage.received_eventually + outage.counted_drops_eventually == outage.ended, outage


def test_every_span_is_received_or_counted_when_shutdown_returns(outage: Outcome) -> None:
    assert outage.received + outage.counted_drops == outage.ended, outage


def test_shutdown_honours_its_timeout(outage: Outcome) -> None:
    assert outage.shutdown_s < SHUTDOWN_TIMEOUT_S + 2.0, outage


def _one_span_to(endpoint: str) -> list[object]:
    """Configure OTLP export to ``endpoint`` and end one span; returns the export threads."""
    provider = TracerProvider()
    runtime = obs_core.configure(tracer_provider=provider, trace_store=False,
                                 capture_content="none", otlp_endpoint=endpoint,
                                 otlp_protocol="http/protobuf")
    recorder = Recorder(tracer_provider=provider, settings=obs_core.current_settings())
    run_id = uuid.uuid4()
    recorder.start(run_id, None, RunStart(kind=SpanKind.CHAIN, name="one"))
    recorder.end(run_id)
    return [getattr(p, "_thread", None) for p in runtime.processors]


@pytest.mark.usefixtures("unconfigured")
def test_flush_returns_within_its_deadline_while_an_export_hangs() -> None:
    with black_hole() as port:
        _one_span_to(f"http://127.0.0.1:{port}")
        started = time.perf_counter()
        flushed = obs_core.flush(timeout_s=0.5)
        elapsed = time.perf_counter() - started
        assert flushed is False
        assert elapsed < 1.5


@pytest.mark.usefixtures("unconfigured")
def test_the_otlp_timeout_variable_bounds_how_long_an_abandoned_export_lives(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "1")
    set_strict(False)
    reset_self_metrics()
    try:
        with black_hole() as port:
            workers = _one_span_to(f"http://127.0.0.1:{port}")
            time.sleep(0.7)  # the batch is now blocked in the export
            obs_core.shutdown(timeout_s=0.2)
            assert obs_core.self_metrics()["dropped"].get("export_shutdown.otlp") == 1
            for worker in workers:
                assert isinstance(worker, threading.Thread)
                worker.join(3.0)  # the default 5 s timeout would still hold it
                assert not worker.is_alive()
    finally:
        set_strict(None)
        reset_self_metrics()
