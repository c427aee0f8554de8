"""Store files are readable by their owner only, even under a permissive umask; and secrets
given to obs or to instrumented clients (API keys, DSN passwords, the hash secret) appear in no
log line, span, self-metric or error message."""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import obs_core
from obs_core.payloads import PostgresPayloadStore
from obs_core.testing import ScriptedOpenAIServer, ScriptedReply
from reliability._faults import closed_port

DSN_PASSWORD = "Pg-pa55word-4f1c9e"
HASH_SECRET = "hash-secret-9b2e7d41c0a8f3"
CLIENT_KEY = "sk-client-key-7Qw2Er9Ty4Ui1Op6As3Df8"


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    previous = os.umask(0)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _run_app(provider: TracerProvider, api_key: str = "sk-test") -> None:
    with ScriptedOpenAIServer() as server:
        server.enqueue(ScriptedReply.text("done"))
        client = obs_core.instrument_openai(
            openai.OpenAI(base_url=server.base_url, api_key=api_key, max_retries=0),
            tracer_provider=provider)
        with obs_core.agent_run("files", tracer_provider=provider) as agent:
            client.chat.completions.create(model="gpt-4o-mini",
                                           messages=[{"role": "user", "content": "hi"}])
            agent.finish(stop_reason="final_answer")
        client.close()


def test_default_stores_are_created_owner_only_under_a_permissive_umask(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, permissive_umask: None) -> None:
    data_dir = tmp_path / "fresh" / "obs"
    monkeypatch.setenv("OBS_DATA_DIR", str(data_dir))
    provider = TracerProvider()
    obs_core.configure(tracer_provider=provider)
    try:
        _run_app(provider)
        assert obs_core.flush(timeout_s=10)
        files = sorted(p for p in data_dir.rglob("*"))
        modes = {p.name: _mode(p) for p in [data_dir, *files]}
    finally:
        obs_core.shutdown(timeout_s=5)
    assert {"traces.db", "payloads.db"} <= set(modes)
    loose = {name: oct(mode) for name, mode in modes.items() if mode & 0o077}
    assert loose == {}


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


@pytest.mark.slow
@pytest.mark.lenient
def test_secrets_in_configuration_appear_in_no_log_span_metric_or_error(
        tmp_path: Path, logs: pytest.LogCaptureFixture) -> None:
    dsn = f"postgresql://obs:{DSN_PASSWORD}@127.0.0.1:{closed_port()}/test?connect_timeout=1"
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    errors: list[str] = []
    obs_core.configure(tracer_provider=provider, trace_store=tmp_path / "traces.db",
                       payload_store=dsn, hash_secret=HASH_SECRET)
    try:
        _run_app(provider, api_key=CLIENT_KEY)
        obs_core.flush(timeout_s=2)  # the payload store is down: its writer logs the outage
        errors.append(repr(PostgresPayloadStore(dsn)))
        try:
            PostgresPayloadStore(dsn, pooled=False, connect_timeout_s=1).write([])
            PostgresPayloadStore(dsn, pooled=False, connect_timeout_s=1).search(limit=1)
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        obs_core.shutdown(timeout_s=2)
    spans = json.dumps([dict(s.attributes or {}) | {"status": s.status.description,
                                                     "events": [e.name for e in s.events]}
                        for s in exporter.get_finished_spans()])
    everything = "\n".join([logs.text, spans, json.dumps(obs_core.self_metrics()), *errors,
                            (tmp_path / "traces.db").read_bytes().decode("utf-8", "replace")])
    assert len(exporter.get_finished_spans()) == 2
    assert len(errors) == 2, errors  # the repr and a real connection error were both checked
    for secret in (DSN_PASSWORD, HASH_SECRET, CLIENT_KEY):
        assert secret not in everything, secret
