"""OTLP export reaches a real receiver over both protocols, parent links intact."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.sdk.trace import TracerProvider

import obs_core
from _obs_support import Received, otlp_http_receiver
from obs_core import Recorder, RunStart, SpanKind


@pytest.fixture
def http_receiver() -> Iterator[tuple[str, Received]]:
    with otlp_http_receiver() as receiver:
        yield receiver


@pytest.fixture
def grpc_receiver() -> Iterator[tuple[str, Received]]:
    received = Received()

    class Service(trace_service_pb2_grpc.TraceServiceServicer):
        def Export(self, request: Any, context: Any) -> Any:
            received.add(request)
            return trace_service_pb2.ExportTraceServiceResponse()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Service(), server)  # type: ignore[no-untyped-call]
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"http://127.0.0.1:{port}", received
    server.stop(grace=None)


def _run_agent_with_tool(recorder: Recorder) -> None:
    agent, tool = uuid.uuid4(), uuid.uuid4()
    recorder.start(agent, None, RunStart(kind=SpanKind.AGENT, name="exporter-test"))
    recorder.start(tool, agent, RunStart(kind=SpanKind.TOOL, name="lookup"))
    recorder.end(tool)
    recorder.end(agent)


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_spans_reach_a_real_otlp_receiver_with_parent_links(
        protocol: str, http_receiver: tuple[str, Received], grpc_receiver: tuple[str, Received]) -> None:
    endpoint, received = http_receiver if protocol == "http/protobuf" else grpc_receiver
    provider = TracerProvider()
    runtime = obs_core.configure(tracer_provider=provider, trace_store=False, otlp_endpoint=endpoint,
                                 otlp_protocol=protocol)  # type: ignore[arg-type]
    try:
        _run_agent_with_tool(Recorder(tracer_provider=provider, settings=runtime.settings))
        assert obs_core.flush(timeout_s=10)
    finally:
        obs_core.shutdown()
    by_name = {s.name: s for s in received.spans}
    assert set(by_name) == {"invoke_agent exporter-test", "execute_tool lookup"}
    agent, tool = by_name["invoke_agent exporter-test"], by_name["execute_tool lookup"]
    assert tool.parent_span_id == agent.span_id
    assert tool.trace_id == agent.trace_id
    keys = {kv.key for kv in agent.attributes}
    assert {"gen_ai.agent.name", "obs.agent.step_count", "obs.agent.max_iterations_reached"} <= keys


def test_standard_otel_endpoint_variable_turns_export_on(
        monkeypatch: pytest.MonkeyPatch, http_receiver: tuple[str, Received]) -> None:
    endpoint, received = http_receiver
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
    provider = TracerProvider()
    runtime = obs_core.configure(tracer_provider=provider, trace_store=False)
    try:
        _run_agent_with_tool(Recorder(tracer_provider=provider, settings=runtime.settings))
        assert obs_core.flush(timeout_s=10)
    finally:
        obs_core.shutdown()
    assert len(received.spans) == 2


def test_unreachable_endpoint_never_blocks_or_raises_into_the_caller() -> None:
    import socket
    import time

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    provider = TracerProvider()
    runtime = obs_core.configure(tracer_provider=provider, trace_store=False,
                                 otlp_endpoint=f"http://127.0.0.1:{port}")
    try:
        recorder = Recorder(tracer_provider=provider, settings=runtime.settings)
        started = time.perf_counter()
        for _ in range(50):
            _run_agent_with_tool(recorder)
        assert time.perf_counter() - started < 2.0
    finally:
        obs_core.shutdown(timeout_s=1)
    dropped = obs_core.self_metrics()["dropped"]
    # Still retrying when shutdown's deadline passed (export_shutdown) or given up by the
    # exporter (export_failed): either way every span is counted, none silently lost.
    assert sum(n for reason, n in dropped.items() if reason.endswith(".otlp")) == 100
