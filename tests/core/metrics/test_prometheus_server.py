"""A real Prometheus scrapes the exporter and evaluates the generated alert rules."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.util.types import AnyValue

from obs_core.alerts import default_rules, prometheus_rules_yaml
from obs_core.drift import DriftConfig, DriftDetector
from obs_core.metrics import MetricsSpanProcessor, ObsMeterProvider, build_meter_provider

pytestmark = [
    pytest.mark.prometheus,
    pytest.mark.skipif(shutil.which("prometheus") is None,
                       reason="prometheus binary not on PATH (run .ci/prometheus.sh)"),
]

T0 = 1_700_000_000_000_000_000
LLM = {"obs.span.kind": "llm", "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
       "gen_ai.request.model": "gpt-4o-mini", "obs.pipeline.version": "v3"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Prometheus:
    def __init__(self, base: str) -> None:
        self.base = base

    def get(self, path: str, **params: str) -> Any:
        url = f"{self.base}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.loads(response.read())

    def query(self, promql: str) -> list[dict[str, Any]]:
        body = self.get("/api/v1/query", query=promql)
        assert body["status"] == "success", body
        return list(body["data"]["result"])

    def wait_for(self, promql: str, *, timeout_s: float = 20.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout_s
        while True:
            result = self.query(promql)
            if result or time.monotonic() > deadline:
                return result
            time.sleep(0.25)


@pytest.fixture(scope="module")
def exporter() -> Iterator[ObsMeterProvider]:
    """One exporter and one Prometheus for the module: Prometheus's service discovery takes
    about five seconds to hand over its first targets, so starting it once keeps this fast."""
    provider = build_meter_provider(prometheus_port=0)
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(MetricsSpanProcessor(provider))
    tracer = tracer_provider.get_tracer("t")
    clock = T0
    # Three model calls of 0.05 s, 0.5 s and 3 s; one failed; 100 + 20 tokens each.
    for duration_s, error in ((0.05, False), (0.5, False), (3.0, True)):
        attrs: dict[str, AnyValue] = {**LLM, "gen_ai.usage.input_tokens": 100, "gen_ai.usage.output_tokens": 20,
                 "obs.usage.cost_usd": 0.5}
        if error:
            attrs["error.type"] = "TimeoutError"
        span = tracer.start_span("chat gpt-4o-mini", attributes=attrs, start_time=clock)
        clock += int(duration_s * 1e9)
        span.end(end_time=clock)
    tracer.start_span("retrieval docs", attributes={
        "obs.span.kind": "retriever", "gen_ai.data_source.id": "docs",
        "obs.retrieval.scores": [0.9, 0.85, 0.3]}).end()
    detector = DriftDetector(DriftConfig(reference_size=20, current_size=20, min_reference=20,
                                         min_current=20), meter_provider=provider,
                             tracer_provider=tracer_provider)
    detector.set_reference("docs", [0.8 + i * 0.005 for i in range(20)])
    detector.observe_scores("docs", [0.4 + i * 0.005 for i in range(20)])
    assert detector.check()[0].detected
    yield provider
    provider.shutdown()
    tracer_provider.shutdown()


@pytest.fixture(scope="module")
def prometheus(exporter: ObsMeterProvider,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    tmp_path = tmp_path_factory.mktemp("prometheus")
    binary = shutil.which("prometheus")
    assert binary is not None
    assert exporter.prometheus is not None
    rules = tmp_path / "obs-rules.yml"
    rules.write_text(prometheus_rules_yaml(default_rules(), interval_s=1))
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        f"rule_files:\n  - {rules}\n"
        "scrape_configs:\n  - job_name: obs\n    static_configs:\n"
        f"      - targets: ['127.0.0.1:{exporter.prometheus.port}']\n"
    )
    port = free_port()
    log = (tmp_path / "prometheus.log").open("w")
    process = subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    server = Prometheus(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{server.base}/-/ready", timeout=1) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail("prometheus did not start:\n" + (tmp_path / "prometheus.log").read_text())
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log.close()


def test_token_usage_series_reach_prometheus_per_token_type(prometheus: Prometheus) -> None:
    result = prometheus.wait_for('gen_ai_client_token_usage_sum{gen_ai_request_model="gpt-4o-mini"}')
    by_type = {r["metric"]["gen_ai_token_type"]: float(r["value"][1]) for r in result}
    assert by_type == {"input": 300.0, "output": 60.0}
    assert result[0]["metric"]["obs_pipeline_version"] == "v3"


def test_duration_histogram_buckets_hold_the_right_cumulative_counts(
        prometheus: Prometheus) -> None:
    result = prometheus.wait_for("sum by (le) (gen_ai_client_operation_duration_seconds_bucket)")
    buckets = {r["metric"]["le"]: float(r["value"][1]) for r in result}
    as_float = {float(le): count for le, count in buckets.items()}
    assert as_float[0.04] == 0
    assert as_float[0.08] == 1      # 0.05 s
    assert as_float[0.64] == 2      # 0.5 s
    assert as_float[2.56] == 2
    assert as_float[5.12] == 3      # 3 s
    assert as_float[float("inf")] == 3
    assert len(buckets) == 15       # 14 advisory boundaries + Inf


def test_cost_and_errors_are_queryable(prometheus: Prometheus) -> None:
    cost = prometheus.wait_for("sum(obs_usage_cost_usd_total)")
    assert float(cost[0]["value"][1]) == pytest.approx(1.5)
    errors = prometheus.wait_for('obs_errors_total{error_type="TimeoutError"}')
    assert float(errors[0]["value"][1]) == 1


def test_generated_rules_load_and_the_drift_alert_fires(prometheus: Prometheus) -> None:
    groups = prometheus.get("/api/v1/rules")["data"]["groups"]
    loaded = {rule["name"] for g in groups for rule in g["rules"]}
    assert {r.name for r in default_rules()} <= loaded
    firing = prometheus.wait_for('ALERTS{alertname="ObsRetrievalDrift",alertstate="firing"}')
    assert firing
    assert firing[0]["metric"]["gen_ai_data_source_id"] == "docs"
    deadline = time.monotonic() + 10
    while True:
        groups = prometheus.get("/api/v1/rules")["data"]["groups"]
        unhealthy = [(r["name"], r.get("lastError")) for g in groups for r in g["rules"]
                     if r.get("health") not in ("ok",)]
        if not unhealthy or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert unhealthy == []
