"""``instrument()`` traces runs that pass no callbacks; ``uninstrument()`` undoes it exactly."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from langchain_core.runnables import RunnableLambda
from langchain_core.tracers import context as tracer_context
from langchain_openai import ChatOpenAI

from obs_core.testing import ScriptedOpenAIServer, SpanCapture
from obs_langchain import instrument, instrumented_handler, uninstrument


@pytest.fixture(autouse=True)
def _never_left_instrumented() -> Iterator[None]:
    yield
    uninstrument()


def test_instrument_traces_runs_that_pass_no_callbacks(
        server: ScriptedOpenAIServer, capture: SpanCapture,
        chat_model: Callable[..., ChatOpenAI]) -> None:
    handler = instrument(tracer_provider=capture.tracer_provider)

    shape: RunnableLambda[str, str] = RunnableLambda(lambda q: str(q), name="shape")
    (shape | chat_model()).invoke("hello")

    assert capture.tree() == [(0, "RunnableSequence"), (1, "shape"), (1, "chat gpt-4o-mini")]
    assert handler.recorder.open_run_count == 0


def test_instrumented_handler_reaches_runs_in_threads_started_before_instrument(
        capture: SpanCapture) -> None:
    started, go, done = threading.Event(), threading.Event(), threading.Event()

    def worker() -> None:
        started.set()
        go.wait(5)
        RunnableLambda(lambda x: x, name="in_thread").invoke(1)
        done.set()

    thread = threading.Thread(target=worker)
    thread.start()
    started.wait(5)
    instrument(tracer_provider=capture.tracer_provider)
    go.set()
    thread.join(5)

    assert done.is_set()
    assert [s.name for s in capture.spans] == ["in_thread"]


def test_instrument_is_idempotent(capture: SpanCapture) -> None:
    first = instrument(tracer_provider=capture.tracer_provider)
    second = instrument(tracer_provider=capture.tracer_provider)

    RunnableLambda(lambda x: x, name="once").invoke(1)

    assert second is first
    assert instrumented_handler() is first
    assert [s.name for s in capture.spans] == ["once"]


def test_uninstrument_stops_tracing_and_unregisters_the_hook(capture: SpanCapture) -> None:
    hooks_before = list(tracer_context._configure_hooks)
    instrument(tracer_provider=capture.tracer_provider)

    uninstrument()
    RunnableLambda(lambda x: x, name="untraced").invoke(1)

    assert capture.spans == []
    assert instrumented_handler() is None
    assert tracer_context._configure_hooks == hooks_before


def test_instrument_after_uninstrument_traces_again(capture: SpanCapture) -> None:
    instrument(tracer_provider=capture.tracer_provider)
    uninstrument()
    instrument(tracer_provider=capture.tracer_provider)

    RunnableLambda(lambda x: x, name="again").invoke(1)

    assert [s.name for s in capture.spans] == ["again"]


def test_uninstrument_without_instrument_is_harmless() -> None:
    hooks_before = list(tracer_context._configure_hooks)

    uninstrument()
    uninstrument()

    assert tracer_context._configure_hooks == hooks_before
