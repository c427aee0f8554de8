"""Tracer set-ups, one per mode, all feeding the same OpenTelemetry pipeline.

Every OpenTelemetry-based mode gets a fresh SDK ``TracerProvider`` with one
``SimpleSpanProcessor`` in front of a :class:`CountingExporter` that drops spans, so what differs
between modes is only the tracers' own work: callbacks, attribute mapping, span bookkeeping.
Metrics go to an SDK ``MeterProvider`` whose in-memory reader is never collected (instruments
are real, nothing is exported). A mode whose packages cannot be imported raises
:class:`Unavailable`, which the harness reports as "n/a".
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from _workloads import Framework


class Unavailable(Exception):
    """The mode cannot run here (a package is missing or does not support the framework)."""


@dataclass(kw_only=True)
class CountingExporter:
    """Counts spans and, while ``measure`` is on, the bytes of their attributes; keeps nothing."""

    spans: int = 0
    attribute_bytes: int = 0
    measure: bool = False

    def export(self, spans: Sequence[Any]) -> Any:
        from opentelemetry.sdk.trace.export import SpanExportResult

        self.spans += len(spans)
        if self.measure:
            for s in spans:
                self.attribute_bytes += attributes_size(s.attributes)
                for event in s.events:
                    self.attribute_bytes += len(event.name) + attributes_size(event.attributes)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


def attributes_size(attributes: Mapping[str, Any] | None) -> int:
    """Bytes a wire format would spend on keys and values (UTF-8 text, 8 bytes per number)."""
    total = 0
    for key, value in (attributes or {}).items():
        total += len(key.encode()) + _value_size(value)
    return total


def _value_size(value: Any) -> int:
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, (list, tuple)):
        return sum(_value_size(v) for v in value)
    return 8


@dataclass(kw_only=True)
class Tracing:
    """What a mode installed: callbacks to pass per run, and the span counter (if any)."""

    callbacks: list[Any] = field(default_factory=list)
    exporter: CountingExporter | None = None
    note: str = ""


def _otel_pipeline(*, metrics: bool) -> tuple[Any, Any, CountingExporter]:
    from opentelemetry import metrics as otel_metrics
    from opentelemetry import trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    exporter = CountingExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "obs-bench"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))  # type: ignore[arg-type]
    trace.set_tracer_provider(provider)
    meter_provider: Any = None
    if metrics:
        meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
        otel_metrics.set_meter_provider(meter_provider)
    return provider, meter_provider, exporter


def _baseline(framework: Framework) -> Tracing:
    return Tracing()


def _noop_handler(framework: Framework) -> Tracing:
    """A handler that does nothing, hooked in the way obs hooks in: what the framework's own
    callback or dispatcher machinery costs once any handler is attached, which every tracer
    pays before doing any work of its own."""
    from _hooks import attach_langchain_handler, quiet_span_handler

    if framework == "langchain":
        from langchain_core.callbacks import BaseCallbackHandler

        class NoopHandler(BaseCallbackHandler):
            run_inline = True

        attach_langchain_handler(NoopHandler(), "bench_noop_handler")
        return Tracing()
    from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]
    from llama_index.core.instrumentation.event_handlers import BaseEventHandler

    class NoopEventHandler(BaseEventHandler):
        def handle(self, event: Any, **kwargs: Any) -> None:
            return None

    dispatcher = get_dispatcher()
    dispatcher.add_span_handler(quiet_span_handler()())
    dispatcher.add_event_handler(NoopEventHandler())
    return Tracing()


def _bare_spans(framework: Framework) -> Tracing:
    """One span per run with a few GenAI attributes and nothing else (see ``_bare_spans``)."""
    import _bare_spans

    provider, _, exporter = _otel_pipeline(metrics=False)
    _bare_spans.install(framework, provider)
    return Tracing(exporter=exporter)


def _obs(framework: Framework, *, minimal: bool) -> Tracing:
    try:
        import obs_core
    except ImportError as exc:
        raise Unavailable(f"obs-core not importable: {exc}") from exc
    provider, meter_provider, exporter = _otel_pipeline(metrics=not minimal)
    if minimal:
        from opentelemetry.metrics import NoOpMeterProvider

        meter_provider = NoOpMeterProvider()
        obs_core.configure(tracer_provider=provider, meter_provider=meter_provider,
                           trace_store=False, capture_content="none", payload_store=False)
    else:
        obs_core.configure(tracer_provider=provider, meter_provider=meter_provider,
                           trace_store=False)
    if framework == "langchain":
        try:
            import obs_langchain
        except ImportError as exc:
            raise Unavailable(f"obs-langchain not importable: {exc}") from exc
        obs_langchain.instrument(tracer_provider=provider, meter_provider=meter_provider)
    else:
        try:
            import obs_llamaindex
        except ImportError as exc:
            raise Unavailable(f"obs-llamaindex not importable: {exc}") from exc
        obs_llamaindex.instrument(tracer_provider=provider, meter_provider=meter_provider)
    return Tracing(exporter=exporter)


def _openinference(framework: Framework) -> Tracing:
    try:
        if framework == "langchain":
            from openinference.instrumentation.langchain import LangChainInstrumentor as Inst
        else:
            from openinference.instrumentation.llama_index import LlamaIndexInstrumentor as Inst
    except ImportError as exc:
        raise Unavailable(f"openinference-instrumentation not importable: {exc}") from exc
    provider, _, exporter = _otel_pipeline(metrics=True)
    Inst().instrument(tracer_provider=provider)
    return Tracing(exporter=exporter)


def _openllmetry(framework: Framework) -> Tracing:
    try:
        instrumentor: Any
        if framework == "langchain":
            from opentelemetry.instrumentation.langchain import LangchainInstrumentor

            instrumentor = LangchainInstrumentor()
        else:
            from opentelemetry.instrumentation.llamaindex import LlamaIndexInstrumentor

            instrumentor = LlamaIndexInstrumentor()  # type: ignore[no-untyped-call]
    except ImportError as exc:
        raise Unavailable(f"opentelemetry-instrumentation not importable: {exc}") from exc
    provider, meter_provider, exporter = _otel_pipeline(metrics=True)
    instrumentor.instrument(tracer_provider=provider, meter_provider=meter_provider)
    return Tracing(exporter=exporter)


def _langfuse(framework: Framework) -> Tracing:
    """Langfuse's OpenTelemetry SDK on the shared provider. Its own batch processor stays (it
    is part of what Langfuse costs) but exports to a dropping exporter: no network at all."""
    try:
        from langfuse import Langfuse
    except ImportError as exc:
        raise Unavailable(f"langfuse not importable: {exc}") from exc
    provider, _, exporter = _otel_pipeline(metrics=True)
    Langfuse(public_key="pk-lf-bench", secret_key="sk-lf-bench", host="http://127.0.0.1:9",
             tracer_provider=provider, span_exporter=CountingExporter(),  # type: ignore[arg-type]
             flush_interval=3600)
    if framework == "langchain":
        from langfuse.langchain import CallbackHandler

        return Tracing(callbacks=[CallbackHandler()], exporter=exporter)
    # Langfuse has no LlamaIndex module of its own in v3+; its documented path is the
    # OpenInference instrumentor feeding the Langfuse span processor.
    try:
        from openinference.instrumentation.llama_index import LlamaIndexInstrumentor
    except ImportError as exc:
        raise Unavailable("langfuse traces LlamaIndex through openinference-instrumentation-"
                          f"llama-index, which is not importable: {exc}") from exc
    LlamaIndexInstrumentor().instrument(tracer_provider=provider)
    return Tracing(exporter=exporter, note="via openinference-instrumentation-llama-index")


MODES: dict[str, Callable[[Framework], Tracing]] = {
    "baseline": _baseline,
    "noop-handler": _noop_handler,
    "bare-spans": _bare_spans,
    "obs-default": lambda fw: _obs(fw, minimal=False),
    "obs-minimal": lambda fw: _obs(fw, minimal=True),
    "openinference": _openinference,
    "openllmetry": _openllmetry,
    "langfuse": _langfuse,
}
PEERS = ("openinference", "openllmetry", "langfuse")

WORKER_ENV = {
    # Nothing may reach a network or a hosted tracer from a worker.
    "LANGSMITH_TRACING": "false",
    "LANGCHAIN_TRACING_V2": "false",
    "TRACELOOP_TELEMETRY": "false",
    "LANGFUSE_HOST": "http://127.0.0.1:9",
    "LANGFUSE_BASE_URL": "http://127.0.0.1:9",
    "OTEL_TRACES_EXPORTER": "none",
    "OTEL_METRICS_EXPORTER": "none",
    "OTEL_LOGS_EXPORTER": "none",
}


def worker_env(data_dir: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OBS_", "OTEL_", "LANGFUSE_", "TRACELOOP_"))}
    env.update(WORKER_ENV)
    env["OBS_DATA_DIR"] = data_dir
    return env
