"""Every environment variable obs reads, declared once with its meaning.

``configure()`` arguments win over these; these win over defaults. Standard ``OTEL_*`` variables
that the OpenTelemetry SDK and exporters read themselves (resource attributes, sampler, OTLP
headers and timeouts) keep working because obs builds its providers and exporters through the SDK.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, kw_only=True, slots=True)
class EnvVar:
    name: str
    doc: str
    default: str | None = None

    def get(self) -> str | None:
        value = os.environ.get(self.name)
        return value if value not in (None, "") else self.default


OTEL_SERVICE_NAME: Final = EnvVar(name="OTEL_SERVICE_NAME", doc="Service name on every span (resource ``service.name``).")
OTEL_SDK_DISABLED: Final = EnvVar(name="OTEL_SDK_DISABLED", doc="``true`` turns obs's providers into no-ops, as for any OpenTelemetry SDK.")
OTEL_EXPORTER_OTLP_ENDPOINT: Final = EnvVar(name="OTEL_EXPORTER_OTLP_ENDPOINT", doc="OTLP base endpoint; setting it turns OTLP export on.")
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: Final = EnvVar(name="OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", doc="OTLP endpoint for traces only (full URL for http/protobuf).")
OTEL_EXPORTER_OTLP_PROTOCOL: Final = EnvVar(name="OTEL_EXPORTER_OTLP_PROTOCOL", doc="``grpc`` or ``http/protobuf`` (default).", default="http/protobuf")
OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: Final = EnvVar(name="OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", doc="Protocol for traces only; overrides the general one.")
OTEL_EXPORTER_OTLP_TIMEOUT: Final = EnvVar(name="OTEL_EXPORTER_OTLP_TIMEOUT", doc="Seconds one OTLP export may take, retries included (the Python SDK reads seconds); obs defaults to 5.")
OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: Final = EnvVar(name="OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", doc="OTLP export timeout for traces only; overrides the general one.")
OTEL_TRACES_SAMPLER: Final = EnvVar(name="OTEL_TRACES_SAMPLER", doc="Sampler name (``parentbased_always_on``, ``traceidratio``...), read by the SDK.")
OBS_DATA_DIR: Final = EnvVar(name="OBS_DATA_DIR", doc="Folder of the embedded stores (default ``~/.local/share/obs``).")
OBS_TRACE_STORE: Final = EnvVar(name="OBS_TRACE_STORE", doc="SQLite trace store file, or ``false`` to keep no local traces.")
OBS_CONSOLE: Final = EnvVar(name="OBS_CONSOLE", doc="``true`` prints finished spans to stderr (debugging).")
OBS_CAPTURE_CONTENT: Final = EnvVar(name="OBS_CAPTURE_CONTENT", doc="Payload capture: ``none``, ``redacted`` (default) or ``full``.")
OBS_CONTENT_ON_SPANS: Final = EnvVar(name="OBS_CONTENT_ON_SPANS", doc="``true`` puts (scrubbed) prompts and answers on spans too.")
OBS_PAYLOAD_STORE: Final = EnvVar(name="OBS_PAYLOAD_STORE", doc="Payload store: SQLite path, ``postgresql://`` DSN, or ``false``.")
OBS_PAYLOAD_TTL_DAYS: Final = EnvVar(name="OBS_PAYLOAD_TTL_DAYS", doc="Days payloads are kept (default 30).")
OBS_PAYLOAD_SAMPLE_RATE: Final = EnvVar(name="OBS_PAYLOAD_SAMPLE_RATE", doc="Share of traces whose payloads are captured, 0 to 1 (default 1).")
OBS_HASH_SECRET: Final = EnvVar(name="OBS_HASH_SECRET", doc="Secret key of the prompt hash (HMAC-SHA256).")
OBS_PROMETHEUS_PORT: Final = EnvVar(name="OBS_PROMETHEUS_PORT", doc="Serve Prometheus metrics on this port (127.0.0.1).")
OBS_ORPHAN_TIMEOUT_S: Final = EnvVar(name="OBS_ORPHAN_TIMEOUT_S", doc="Seconds before an unfinished run is ended as orphaned (default 600).")
OBS_MAX_ATTRIBUTE_LENGTH: Final = EnvVar(name="OBS_MAX_ATTRIBUTE_LENGTH", doc="Longest string attribute before truncation (default 4096).")
OBS_PIPELINE_VERSION: Final = EnvVar(name="OBS_PIPELINE_VERSION", doc="Default ``obs.pipeline.version`` of root runs.")
OBS_USER_COHORT: Final = EnvVar(name="OBS_USER_COHORT", doc="Default ``obs.user.cohort`` of root runs.")
OBS_STRICT: Final = EnvVar(name="OBS_STRICT", doc="``true`` re-raises obs's internal errors (test suites).")

ALL: Final = tuple(v for v in list(globals().values()) if isinstance(v, EnvVar))


def parse_bool(var: EnvVar) -> bool | None:
    raw = var.get()
    if raw is None:
        return None
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", "none"}:
        return False
    from obs_core.config import ObsConfigError

    raise ObsConfigError(f"{var.name}={raw!r} is not a boolean (use true or false)")


def parse_number(var: EnvVar) -> float | None:
    raw = var.get()
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        from obs_core.config import ObsConfigError

        raise ObsConfigError(f"{var.name}={raw!r} is not a number") from None
