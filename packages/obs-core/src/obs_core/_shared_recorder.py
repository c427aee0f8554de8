"""One recorder per provider pair, shared by entry points that may nest."""

from __future__ import annotations

import threading

from opentelemetry import trace
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import TracerProvider

from obs_core._recorder import Recorder
from obs_core._recorder_settings import RecorderSettings

_shared: dict[tuple[int, int], tuple[TracerProvider, MeterProvider | None, Recorder]] = {}
_shared_lock = threading.Lock()


def shared_recorder(tracer_provider: TracerProvider | None = None,
                    meter_provider: MeterProvider | None = None,
                    settings: RecorderSettings | None = None) -> Recorder:
    """The one recorder per (tracer provider, meter provider) pair in this process.

    Entry points that may nest (the framework-free API, the OpenAI client wrapper, both
    integrations) share it, so a model call made inside an agent of another entry point still
    counts as that agent's step. ``settings`` replaces the recorder's settings (reconfigure).
    """
    provider = tracer_provider or trace.get_tracer_provider()
    key = (id(provider), id(meter_provider))
    with _shared_lock:
        entry = _shared.get(key)
        if entry is None:
            recorder = Recorder(tracer_provider=provider, meter_provider=meter_provider,
                                settings=settings)
            _shared[key] = (provider, meter_provider, recorder)
            return recorder
        recorder = entry[2]
    if settings is not None and recorder.settings is not settings:
        recorder.settings = settings
    return recorder
