"""``configure()``: the one call that sets obs up, and the state it leaves behind.

Precedence for every option: the keyword argument, then the environment variable declared in
:mod:`obs_core._env`, then the embedded default. ``None`` means "not set"; ``False`` turns a
subsystem off. Calling it again reconfigures: the exporters obs installed are flushed and
replaced in place (the tracer provider itself, its resource and sampler stay, because
OpenTelemetry allows one global provider per process).
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from opentelemetry import metrics as otel_metrics
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import TracerProvider

from obs_core import _env
from obs_core._config_hooks import alerts_hook, evaluation_hook, payloads_hook
from obs_core._export import BoundedExportProcessor
from obs_core._guard import guard
from obs_core._paths import default_trace_store_path, ensure_private_dir
from obs_core._recorder_settings import RecorderSettings
from obs_core.pricing import ModelPrice, PriceTable
from obs_core.runs import RunObserver

logger = logging.getLogger("obs.config")

CaptureMode = Literal["none", "redacted", "full"]
OtlpProtocol = Literal["grpc", "http/protobuf"]


class ObsConfigError(ValueError):
    """Raised by ``configure()`` for configuration that cannot work. Runtime data never raises."""


@dataclass(kw_only=True)
class Obs:
    """What ``configure()`` set up; pass its providers to entry points if you keep several."""

    tracer_provider: TracerProvider
    meter_provider: MeterProvider | None
    settings: RecorderSettings
    trace_store_path: Path | None
    otlp_endpoint: str | None
    capture_content: CaptureMode
    processors: list[SpanProcessor] = field(default_factory=list)
    closers: list[Any] = field(default_factory=list)
    """Objects with ``flush(timeout_s)``/``close()`` owned by this configuration."""


class _SwappableProcessor(SpanProcessor):
    """Installed once per tracer provider; reconfiguration swaps what it delegates to."""

    def __init__(self) -> None:
        self.processors: tuple[SpanProcessor, ...] = ()

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        for p in self.processors:
            p.on_start(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        for p in self.processors:
            with guard("export.on_end"):
                p.on_end(span)

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        results = [p.force_flush(timeout_millis) for p in self.processors]  # flush every one
        return all(results)

    def shutdown(self) -> None:
        for p in self.processors:
            with guard("export.shutdown"):
                p.shutdown()


_lock = threading.RLock()
_current: Obs | None = None
_own_provider: SdkTracerProvider | None = None
_swappers: dict[int, _SwappableProcessor] = {}
_atexit_registered = False


def configure(
    *,
    service_name: str | None = None,
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
    trace_store: str | Path | bool | None = None,
    otlp_endpoint: str | None = None,
    otlp_protocol: OtlpProtocol | None = None,
    console: bool | None = None,
    capture_content: CaptureMode | None = None,
    content_on_spans: bool | None = None,
    payload_store: str | Path | bool | None = None,
    payload_ttl_days: float | None = None,
    payload_sample_rate: float | None = None,
    hash_secret: str | None = None,
    prometheus_port: int | None = None,
    orphan_timeout_s: float | None = None,
    max_attribute_length: int | None = None,
    prices: Mapping[str, Mapping[str, Any] | ModelPrice] | None = None,
    pipeline_version: str | None = None,
    user_cohort: str | None = None,
    observers: Sequence[RunObserver] = (),
    alerts: Any = None,
    alert_sinks: Sequence[Any] | None = None,
    drift: bool | None = None,
    evaluation: Any = None,
    set_global: bool = True,
) -> Obs:
    """Set obs up. With no arguments: spans go to the local SQLite trace store, OTLP export turns
    on if ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set, payloads are captured scrubbed, and message
    content stays off spans.

    ``payload_sample_rate``: the share of traces whose payloads are captured (default 1.0),
    chosen by trace id like OpenTelemetry's ratio sampler, so a trace is kept whole or not at all.
    ``alerts``: ``True`` for the default rules, an :class:`obs_core.alerts.AlertsConfig` or a
    list of rules; evaluated in-process and sent to ``alert_sinks`` (default: the log).
    ``drift``: watch retrieval-score drift (on by default when alerts are on).
    ``evaluation``: an :class:`obs_core.evals.pipeline.EvaluationSettings`; finished traces are
    then scored off the hot path and the results stored, exported and counted.

    Raises :class:`ObsConfigError` for values that cannot work (an unknown capture mode, a
    negative timeout, an OTLP protocol that is neither ``grpc`` nor ``http/protobuf``).
    """
    global _current, _own_provider, _atexit_registered
    capture = _choice(capture_content, _env.OBS_CAPTURE_CONTENT, ("none", "redacted", "full"), "redacted")
    protocol = _choice(otlp_protocol,
                       _env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL if _env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL.get() else _env.OTEL_EXPORTER_OTLP_PROTOCOL,
                       ("grpc", "http/protobuf"), "http/protobuf")
    orphan = _positive(orphan_timeout_s, _env.OBS_ORPHAN_TIMEOUT_S, 600.0, "orphan_timeout_s")
    max_len = int(_positive(max_attribute_length, _env.OBS_MAX_ATTRIBUTE_LENGTH, 4096, "max_attribute_length"))
    on_spans = content_on_spans if content_on_spans is not None else bool(_env.parse_bool(_env.OBS_CONTENT_ON_SPANS))
    show_console = console if console is not None else bool(_env.parse_bool(_env.OBS_CONSOLE))
    store_path = _trace_store_path(trace_store)
    traces_endpoint, endpoint_is_full = _otlp_endpoint(otlp_endpoint)
    otlp_timeout = _positive(None, _env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT if _env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT.get()
                             else _env.OTEL_EXPORTER_OTLP_TIMEOUT, 5.0, "OTLP export timeout")
    price_table = PriceTable.default()
    if prices:
        try:
            price_table = price_table.with_overrides(prices)
        except ValueError as exc:
            raise ObsConfigError(f"invalid prices: {exc}") from exc

    with _lock:
        if _current is not None:
            _close(_current, flush_timeout_s=5.0)
        provider = tracer_provider
        if provider is None:
            if _own_provider is None:
                name = service_name or _env.OTEL_SERVICE_NAME.get() or "obs-app"
                _own_provider = SdkTracerProvider(resource=Resource.create({"service.name": name}))
                if set_global:
                    _set_global_tracer_provider(_own_provider)
            elif service_name and _own_provider.resource.attributes.get("service.name") != service_name:
                logger.warning("obs: service name is fixed at the first configure(); restart to change it")
            provider = _own_provider
        processors: list[SpanProcessor] = []
        if store_path is not None:
            processors.append(BoundedExportProcessor(_trace_store_exporter(store_path), name="store"))
        if traces_endpoint is not None:
            processors.append(BoundedExportProcessor(
                _otlp_exporter(traces_endpoint, protocol, endpoint_is_full, otlp_timeout),
                name="otlp"))
        if show_console:
            processors.append(BoundedExportProcessor(ConsoleSpanExporter(), name="console"))
        _install(provider, processors)

        mp = meter_provider
        if mp is None and prometheus_port is None and _env.OBS_PROMETHEUS_PORT.get() is None:
            mp = None  # metrics go to the global meter provider, whatever the user set there
        elif mp is None:
            mp = _build_meter_provider(prometheus_port, traces_endpoint, protocol, set_global)

        defaults = {k: v for k, v in {
            "pipeline_version": pipeline_version or _env.OBS_PIPELINE_VERSION.get(),
            "user_cohort": user_cohort or _env.OBS_USER_COHORT.get(),
        }.items() if v}
        runtime = Obs(tracer_provider=provider, meter_provider=mp,
                      settings=RecorderSettings(), trace_store_path=store_path,
                      otlp_endpoint=traces_endpoint, capture_content=capture,  # type: ignore[arg-type]
                      processors=processors)
        all_observers = list(observers)
        scrubber, captured = payloads_hook(runtime, capture, payload_store, payload_ttl_days,
                                           payload_sample_rate, hash_secret, all_observers)
        redacting = capture != "full"
        listeners = alerts_hook(runtime, alerts, alert_sinks, drift, mp)
        if evaluation is not None:
            all_observers.append(evaluation_hook(runtime, evaluation, scrubber, listeners, mp))
        runtime.settings = RecorderSettings(
            max_attribute_length=max_len, orphan_timeout_s=orphan, content_on_spans=on_spans,
            scrub=scrubber.scrub if redacting else None,
            scrub_value=scrubber.scrub_value if redacting else None,
            # Content on spans numbers its placeholders like the trace's stored payloads.
            scrub_for_trace=captured.scrubber_for_trace if redacting and captured is not None else None,
            prices=price_table,
            observers=tuple(all_observers), defaults=defaults, span_listeners=tuple(listeners),
        )
        _current = runtime
        if not _atexit_registered:
            atexit.register(_at_exit)
            _atexit_registered = True
        return runtime


def current() -> Obs | None:
    """The active configuration, if ``configure()`` has been called."""
    return _current


def current_settings() -> RecorderSettings:
    """Recorder settings of the active configuration (defaults when unconfigured)."""
    runtime = _current
    return runtime.settings if runtime is not None else RecorderSettings()


def ensure_configured() -> None:
    """Configure embedded defaults on first use, unless the application already set up
    OpenTelemetry itself (then its provider is used as it is)."""
    if _current is not None:
        return
    if isinstance(trace.get_tracer_provider(), SdkTracerProvider):
        return
    with _lock:
        if _current is None:
            configure()


def flush(timeout_s: float = 10.0) -> bool:
    """Export everything finished so far; ``False`` if something did not make it in time."""
    from obs_core._deferred import drain_all

    ok = drain_all(timeout_s)  # span metrics are derived off the callback thread
    runtime = _current
    if runtime is None:
        return ok
    for p in runtime.processors:
        with guard("config.flush"):
            ok = p.force_flush(int(timeout_s * 1000)) and ok
    for closer in runtime.closers:
        with guard("config.flush"):
            ok = closer.flush(timeout_s) is not False and ok
    return ok


def shutdown(timeout_s: float = 10.0) -> None:
    """Flush and stop everything ``configure()`` started. obs can be configured again after."""
    global _current
    with _lock:
        if _current is not None:
            _close(_current, flush_timeout_s=timeout_s)
            _install(_current.tracer_provider, [])
            _current = None


def _close(runtime: Obs, *, flush_timeout_s: float) -> None:
    import time

    deadline = time.monotonic() + flush_timeout_s
    for p in runtime.processors:
        with guard("config.close"):
            remaining = max(0.05, deadline - time.monotonic())
            if isinstance(p, BoundedExportProcessor):
                p.shutdown(timeout_s=remaining)
            else:
                p.force_flush(int(remaining * 1000))
                p.shutdown()
    for closer in runtime.closers:
        with guard("config.close"):
            closer.close()
    runtime.processors = []
    runtime.closers = []


def _at_exit() -> None:
    with guard("config.atexit"):
        flush(timeout_s=5.0)


def _install(provider: TracerProvider, processors: list[SpanProcessor]) -> None:
    swapper = _swappers.get(id(provider))
    if swapper is None:
        add = getattr(provider, "add_span_processor", None)
        if add is None:
            if processors:
                raise ObsConfigError(
                    "the tracer provider cannot take span processors; pass an SDK TracerProvider")
            return
        swapper = _SwappableProcessor()
        add(swapper)
        _swappers[id(provider)] = swapper
    swapper.processors = tuple(processors)


def _set_global_tracer_provider(provider: SdkTracerProvider) -> None:
    current_global = trace.get_tracer_provider()
    if isinstance(current_global, SdkTracerProvider):
        logger.info("obs: a global tracer provider is already set; obs keeps its own alongside")
        return
    trace.set_tracer_provider(provider)


def _choice(value: str | None, var: _env.EnvVar, allowed: tuple[str, ...], default: str) -> str:
    chosen = value if value is not None else var.get() or default
    if chosen not in allowed:
        source = "argument" if value is not None else var.name
        raise ObsConfigError(f"{source}={chosen!r}: expected one of {', '.join(allowed)}")
    return chosen


def _positive(value: float | None, var: _env.EnvVar, default: float, name: str) -> float:
    chosen = value if value is not None else _env.parse_number(var)
    if chosen is None:
        return default
    if chosen <= 0:
        raise ObsConfigError(f"{name} must be positive, got {chosen}")
    return float(chosen)


def _trace_store_path(value: str | Path | bool | None) -> Path | None:
    if value is False:
        return None
    if value is None or value is True:
        raw = _env.OBS_TRACE_STORE.get()
        if raw is not None and raw.strip().lower() in {"false", "0", "no", "off", "none"}:
            return None
        path = Path(raw).expanduser() if raw else default_trace_store_path()
    else:
        path = Path(value).expanduser()
    try:
        ensure_private_dir(path.parent)
    except OSError as exc:
        raise ObsConfigError(f"cannot create the trace store folder {path.parent}: {exc}") from exc
    return path


def _otlp_endpoint(value: str | None) -> tuple[str | None, bool]:
    """The traces endpoint and whether it is already a full URL (signal-specific)."""
    if value:
        return value, False
    specific = _env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT.get()
    if specific:
        return specific, True
    general = _env.OTEL_EXPORTER_OTLP_ENDPOINT.get()
    return (general, False) if general else (None, False)


def _otlp_exporter(endpoint: str, protocol: str, is_full: bool, timeout_s: float) -> SpanExporter:
    """``timeout_s`` bounds one export, retries included: it is also how long a thread stuck on
    a collector that never answers outlives ``shutdown()``."""
    try:
        if protocol == "grpc":
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
                OTLPSpanExporter as GrpcExporter,
            )

            target = endpoint
            for scheme in ("http://", "https://"):
                if target.startswith(scheme):
                    target = target[len(scheme):]
            insecure = not endpoint.startswith("https://")
            return GrpcExporter(endpoint=target.rstrip("/"), insecure=insecure, timeout=timeout_s)
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter as HttpExporter,
        )

        url = endpoint if is_full else endpoint.rstrip("/") + "/v1/traces"
        return HttpExporter(endpoint=url, timeout=timeout_s)
    except ImportError as exc:
        raise ObsConfigError(
            "OTLP export needs the exporter packages: pip install 'obs-core[otlp]'") from exc


def _trace_store_exporter(path: Path) -> SpanExporter:
    import sqlite3

    from obs_core.store import SQLiteTraceStore, TraceStoreExporter

    try:
        return TraceStoreExporter(SQLiteTraceStore(path))
    except (sqlite3.Error, OSError) as exc:
        raise ObsConfigError(f"cannot open the trace store {path}: {exc}") from exc


def _build_meter_provider(port: int | None, otlp_endpoint: str | None, protocol: str,
                          set_global: bool) -> MeterProvider | None:
    from obs_core.metrics import build_meter_provider

    if port is None:
        raw = _env.parse_number(_env.OBS_PROMETHEUS_PORT)
        port = int(raw) if raw is not None else None
    name = _env.OTEL_SERVICE_NAME.get() or "obs-app"
    mp = build_meter_provider(resource=Resource.create({"service.name": name}), prometheus_port=port,
                              otlp_endpoint=otlp_endpoint, otlp_protocol=protocol)
    if set_global:
        otel_metrics.set_meter_provider(mp)
    return mp
