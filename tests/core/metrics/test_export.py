"""The Prometheus scrape endpoint and OTLP metrics export."""

from __future__ import annotations

import gzip
import http.server
import sys
import threading
import urllib.request
from typing import Any

import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.sdk.trace import TracerProvider

from obs_core.metrics import (
    ALL_METRICS,
    MetricsSpanProcessor,
    ObsMeterProvider,
    build_meter_provider,
)


def test_prometheus_endpoint_binds_loopback_on_a_free_port(provider: ObsMeterProvider) -> None:
    assert provider.prometheus is not None
    assert provider.prometheus.host == "127.0.0.1"
    assert provider.prometheus.port > 0
    assert "target_info" in scrape(provider.prometheus.url)


def scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return str(response.read().decode())


def test_every_declared_metric_appears_under_its_declared_prometheus_name(
        exposed_names: set[str]) -> None:
    exposed = exposed_names
    for spec in ALL_METRICS:
        if spec.kind == "histogram":
            wanted = {spec.series(s) for s in ("bucket", "sum", "count")}
        else:
            wanted = {spec.series()}
        assert wanted <= exposed, (spec.name, wanted - exposed)


def test_shutdown_closes_the_scrape_endpoint() -> None:
    provider = build_meter_provider(prometheus_port=0)
    assert provider.prometheus is not None
    url = provider.prometheus.url
    provider.shutdown()
    with pytest.raises(OSError):
        scrape(url)


class _Receiver(http.server.BaseHTTPRequestHandler):
    bodies: list[tuple[str, bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.bodies.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return None


def test_otlp_http_export_sends_metrics_to_the_collector_path() -> None:
    bodies: list[tuple[str, bytes]] = []
    handler = type("Handler", (_Receiver,), {"bodies": bodies})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        provider = build_meter_provider(otlp_endpoint=f"http://127.0.0.1:{server.server_port}",
                                        otlp_interval_s=60)
        processor = MetricsSpanProcessor(provider)
        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(processor)
        tracer_provider.get_tracer("t").start_span("chat", attributes={
            "obs.span.kind": "llm", "gen_ai.usage.input_tokens": 9}).end()
        assert provider.force_flush(timeout_millis=10_000)
        provider.shutdown()
    finally:
        server.shutdown()
        server.server_close()
    assert bodies
    assert {path for path, _ in bodies} == {"/v1/metrics"}
    names: set[str] = set()
    for _, body in bodies:
        request = ExportMetricsServiceRequest.FromString(body)
        for rm in request.resource_metrics:
            for sm in rm.scope_metrics:
                names.update(m.name for m in sm.metrics)
    assert {"gen_ai.client.token.usage", "obs.runs"} <= names


def test_missing_prometheus_exporter_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry.exporter.prometheus", None)
    with pytest.raises(ImportError, match=r"obs-core\[prometheus\]"):
        build_meter_provider(prometheus_port=0)


def test_missing_otlp_exporter_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry.exporter.otlp.proto.grpc.metric_exporter", None)
    with pytest.raises(ImportError, match=r"obs-core\[otlp\]"):
        build_meter_provider(otlp_endpoint="http://127.0.0.1:4317", otlp_protocol="grpc")
