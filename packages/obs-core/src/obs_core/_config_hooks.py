"""What ``configure()`` wires in besides tracing: payload capture, alerts and drift, and the
evaluation pipeline, each registered as an observer or span listener and closed with the
configuration that made it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opentelemetry.metrics import MeterProvider

from obs_core import _env
from obs_core.runs import RunObserver

if TYPE_CHECKING:
    from obs_core.config import Obs
    from obs_core.payloads import PayloadCapture, Scrubber


def evaluation_hook(runtime: Obs, evaluation: Any, scrubber: Scrubber, listeners: list[Any],
                    meter_provider: MeterProvider | None) -> RunObserver:
    """The evaluation pipeline as a run observer, sharing the scrubber and the alert engine."""
    import dataclasses

    from obs_core.config import ObsConfigError
    from obs_core.evals.pipeline import EvaluationSettings, build_pipeline

    if not isinstance(evaluation, EvaluationSettings):
        raise ObsConfigError("evaluation must be an obs_core.evals.pipeline.EvaluationSettings")
    if evaluation.scrubber is None:
        evaluation = dataclasses.replace(evaluation, scrubber=scrubber)
    pipeline = build_pipeline(
        evaluation, tracer_provider=runtime.tracer_provider, meter_provider=meter_provider,
        trace_store_path=runtime.trace_store_path,
        evaluation_listeners=[x for x in listeners if hasattr(x, "on_evaluation")],
    )
    runtime.closers.append(pipeline)
    return pipeline


def alerts_hook(runtime: Obs, alerts: Any, sinks: Sequence[Any] | None, drift: bool | None,
                meter_provider: MeterProvider | None) -> list[Any]:
    """The alert engine and drift detector, fed with the facts of every finished span."""
    if not alerts and not drift:
        return []
    from obs_core.alerts import AlertEngine, AlertsConfig, default_rules
    from obs_core.drift import DriftDetector

    if alerts is True or (drift and not alerts):
        rules = default_rules() if alerts else []
    elif isinstance(alerts, AlertsConfig):
        rules = list(alerts.rules)
    else:
        rules = list(alerts or [])
    engine = AlertEngine(rules, sinks=list(sinks) if sinks is not None else None)
    listeners: list[Any] = [engine]
    if drift is not False:
        detector = DriftDetector(meter_provider=meter_provider, tracer_provider=runtime.tracer_provider)
        engine.watch_drift(detector)
        listeners.append(detector)
    if meter_provider is not None:
        engine.register_metrics(meter_provider)
    engine.start()
    runtime.closers.append(_Stopper(engine))
    return listeners


class _Stopper:
    """Adapts objects with ``stop()`` to the flush/close protocol of ``Obs.closers``."""

    def __init__(self, target: Any) -> None:
        self.target = target

    def flush(self, timeout_s: float) -> bool:
        return True

    def close(self) -> None:
        self.target.stop()


def payloads_hook(runtime: Obs, capture: str, store: str | Path | bool | None,
                  ttl_days: float | None, sample_rate: float | None, secret: str | None,
                  observers: list[RunObserver]) -> tuple[Scrubber, PayloadCapture | None]:
    """The shared scrubber, and payload capture into the payload store (unless ``none``)."""
    from obs_core.payloads import PayloadSettings, Scrubber, build_capture

    scrubber = Scrubber()
    if store is None:
        raw = _env.OBS_PAYLOAD_STORE.get()
        if raw is not None and raw.strip().lower() in {"false", "0", "no", "off", "none"}:
            store = False
        elif raw:
            store = raw
    if store is True:
        store = None  # True means "the default store"
    if ttl_days is None:
        ttl_days = _env.parse_number(_env.OBS_PAYLOAD_TTL_DAYS)
    if sample_rate is None:
        sample_rate = _env.parse_number(_env.OBS_PAYLOAD_SAMPLE_RATE)
    settings = PayloadSettings(
        capture=capture,  # type: ignore[arg-type]
        store=store, ttl_days=ttl_days if ttl_days is not None else 30.0,
        sample_rate=sample_rate if sample_rate is not None else 1.0,
        hash_secret=secret or _env.OBS_HASH_SECRET.get(),
    )
    captured = build_capture(settings, scrubber)
    if captured is not None:
        observers.append(captured)
        runtime.closers.append(captured)
    return scrubber, captured
