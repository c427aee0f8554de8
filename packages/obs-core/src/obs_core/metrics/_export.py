"""Where metrics go: a Prometheus scrape endpoint, OTLP, or readers the caller brings.

Each pipeline gets its own Prometheus registry, so reconfiguring (or running two pipelines in one
test process) never collides on the global ``prometheus_client`` registry.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource

from obs_core import _selfmetrics
from obs_core.metrics._processor import METER_NAME

logger = logging.getLogger("obs.metrics")

DEFAULT_PROMETHEUS_HOST = "127.0.0.1"


@dataclass(kw_only=True)
class PrometheusEndpoint:
    """A running ``/metrics`` HTTP server bound to ``host:port``."""

    host: str
    port: int
    """The bound port (the real one when 0 was asked for)."""
    _server: Any = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class ObsMeterProvider(MeterProvider):
    """A :class:`MeterProvider` that also owns its Prometheus scrape endpoint, if any.

    Shutting the provider down (explicitly or at interpreter exit) closes the endpoint too.
    """

    def __init__(self, *, readers: Sequence[MetricReader], resource: Resource,
                 prometheus: PrometheusEndpoint | None) -> None:
        super().__init__(metric_readers=readers, resource=resource)
        self.prometheus: PrometheusEndpoint | None = prometheus
        self._closed = False

    def shutdown(self, timeout_millis: float = 30_000) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            super().shutdown(timeout_millis=timeout_millis)
        finally:
            if self.prometheus is not None:
                self.prometheus.close()


def build_meter_provider(
    *,
    resource: Resource | None = None,
    prometheus_port: int | None = None,
    prometheus_host: str = DEFAULT_PROMETHEUS_HOST,
    otlp_endpoint: str | None = None,
    otlp_protocol: str | None = None,
    otlp_headers: Mapping[str, str] | None = None,
    otlp_interval_s: float = 30.0,
    extra_readers: Iterable[MetricReader] = (),
    self_metrics: bool = True,
) -> ObsMeterProvider:
    """A meter provider wired to the requested outputs.

    ``prometheus_port`` starts a scrape endpoint on ``prometheus_host`` (port 0 picks a free one;
    read it back from ``provider.prometheus.port``). ``otlp_endpoint`` is the collector's base
    URL; ``otlp_protocol`` (``grpc`` or ``http/protobuf``, the default) picks the exporter, and
    for HTTP the path ``/v1/metrics`` is appended unless the URL already names a signal path.
    Optional exporters are imported only when asked for. ``self_metrics`` registers obs's own
    health counters on the provider.
    """
    readers: list[MetricReader] = list(extra_readers)
    endpoint: PrometheusEndpoint | None = None
    if otlp_endpoint:
        readers.append(_otlp_reader(otlp_endpoint, otlp_protocol or "http/protobuf",
                                    dict(otlp_headers or {}), otlp_interval_s))
    if prometheus_port is not None:
        reader, endpoint = _prometheus_reader(prometheus_host, prometheus_port)
        readers.append(reader)
    try:
        provider = ObsMeterProvider(
            readers=readers,
            resource=resource if resource is not None else Resource.create(),
            prometheus=endpoint,
        )
    except BaseException:
        if endpoint is not None:
            endpoint.close()
        raise
    if self_metrics:
        _selfmetrics.register_instruments(provider.get_meter(METER_NAME))
    return provider


def _prometheus_reader(host: str, port: int) -> tuple[MetricReader, PrometheusEndpoint]:
    try:
        from opentelemetry.exporter.prometheus import PrometheusMetricReader
        from prometheus_client import CollectorRegistry, start_http_server
    except ImportError as exc:
        raise ImportError(
            "the Prometheus endpoint needs the optional exporter: pip install 'obs-core[prometheus]'"
        ) from exc
    registry = CollectorRegistry(auto_describe=True)
    reader = PrometheusMetricReader(registry=registry)
    server, thread = start_http_server(port, addr=host, registry=registry)
    bound_port = int(server.server_address[1])
    logger.info("serving Prometheus metrics on %s:%d", host, bound_port)
    return reader, PrometheusEndpoint(host=host, port=bound_port, _server=server, _thread=thread)


def _metrics_url(endpoint: str) -> str:
    base = endpoint.rstrip("/")
    for signal in ("/v1/traces", "/v1/logs"):
        if base.endswith(signal):
            return base[: -len(signal)] + "/v1/metrics"
    return base if base.endswith("/v1/metrics") else base + "/v1/metrics"


def _otlp_reader(endpoint: str, protocol: str, headers: dict[str, str],
                 interval_s: float) -> MetricReader:
    exporter: Any
    try:
        if protocol == "grpc":
            from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
                OTLPMetricExporter as GrpcExporter,
            )

            exporter = GrpcExporter(endpoint=endpoint, headers=headers or None)
        elif protocol == "http/protobuf":
            from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
                OTLPMetricExporter as HttpExporter,
            )

            url = _metrics_url(endpoint)
            exporter = HttpExporter(endpoint=url, headers=headers or None)
        else:
            raise ValueError(f"unknown OTLP protocol {protocol!r} (use 'grpc' or 'http/protobuf')")
    except ImportError as exc:
        raise ImportError(
            f"OTLP metrics over {protocol} need the optional exporter: pip install 'obs-core[otlp]'"
        ) from exc
    return PeriodicExportingMetricReader(exporter, export_interval_millis=interval_s * 1000)
