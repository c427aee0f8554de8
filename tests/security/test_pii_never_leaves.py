"""In the default capture mode no planted personal value or secret from the shared PII corpus
reaches exported spans (a real OTLP receiver), the trace store, the payload store, the
structured payload event log or obs's own logs: inputs, answers, tool arguments and error
messages included.

Person names are held to the scrubber's own recall: the pipeline may not leak a name the
scrubber catches on the same text (the scrubber's misses are measured in its own tests).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import openai
import pytest
from google.protobuf import text_format  # type: ignore[import-untyped]
from opentelemetry.sdk.trace import TracerProvider

import obs_core
from _obs_support import Received, otlp_http_receiver
from core.payloads.pii_corpus import SAMPLES, Sample
from obs_core.payloads import PayloadSettings, Scrubber, build_capture
from obs_core.testing import ScriptedOpenAIServer, ScriptedReply

pytestmark = pytest.mark.slow

STRICT_KINDS = ("EMAIL", "PHONE", "CARD", "IBAN", "SSN", "IP", "SECRET")
CONTENT_ON_SPANS_LEAK = (
    "Recorder._content_attributes scrubs the JSON text of a value (to_json, then scrub): inside "
    "nested JSON the quotes are escaped (\\\"api_key\\\": \\\"tvly-...\\\"), so the "
    "key=value secret and name detectors miss; the payload store scrubs the structure and does not")


@dataclass(kw_only=True)
class Sinks:
    received: Received
    data_dir: Path
    event_log: io.StringIO
    logs: str
    content_on_spans: bool = False

    def expect_json_escaping_leak(self, request: pytest.FixtureRequest) -> None:
        """Content on spans is scrubbed leaf by leaf, like payloads (nothing expected to leak)."""

    def everything(self) -> str:
        spans = "\n".join(text_format.MessageToString(s, as_utf8=True) for s in self.received.spans)
        files = b"\n".join(p.read_bytes() for p in self.data_dir.rglob("*") if p.is_file())
        return "\n".join([spans, files.decode("utf-8", "replace"), self.event_log.getvalue(),
                          self.logs])


class LookupFailed(Exception):
    pass


def _app(provider: TracerProvider, server: ScriptedOpenAIServer, sample: Sample, *,
         error_text: str = "the CRM is read-only") -> None:
    client = obs_core.instrument_openai(
        openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0),
        tracer_provider=provider)
    server.enqueue(ScriptedReply.text(f"Noted: {sample.text}"))
    with obs_core.agent_run("assistant", inputs=sample.text, tracer_provider=provider) as agent:
        client.chat.completions.create(model="gpt-4o-mini", messages=[
            {"role": "user", "content": sample.text}])
        with obs_core.tool_call("crm_lookup", arguments={"query": sample.text},
                                tracer_provider=provider) as tool:
            tool.set_result({"record": sample.text})
        try:
            with obs_core.tool_call("crm_update", arguments={"note": sample.text},
                                    tracer_provider=provider):
                raise LookupFailed(error_text)
        except LookupFailed:
            pass
        agent.set_output(sample.text)
        agent.finish(stop_reason="final_answer")
    client.close()


@pytest.fixture(scope="module", params=[False, True], ids=["default", "content-on-spans"])
def sinks(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[Sinks]:
    data_dir = tmp_path_factory.mktemp("pii")
    event_log = io.StringIO()
    log_stream = io.StringIO()
    log_handler = logging.StreamHandler(log_stream)
    obs_logger = logging.getLogger("obs")
    obs_logger.addHandler(log_handler)
    previous_level = obs_logger.level
    obs_logger.setLevel(logging.DEBUG)
    capture = build_capture(PayloadSettings(store=data_dir / "payloads-extra.db",
                                            event_log=event_log, hash_secret="x" * 32),
                            Scrubber())
    assert capture is not None
    try:
        with otlp_http_receiver() as (endpoint, received), ScriptedOpenAIServer() as server:
            provider = TracerProvider()
            obs_core.configure(tracer_provider=provider, trace_store=data_dir / "traces.db",
                               payload_store=data_dir / "payloads.db",
                               otlp_endpoint=endpoint, otlp_protocol="http/protobuf",
                               content_on_spans=request.param, observers=[capture])
            for sample in SAMPLES:
                _app(provider, server, sample)
            assert obs_core.flush(timeout_s=20)
            assert capture.flush(20)
            obs_core.shutdown(timeout_s=10)
            capture.close()
            yield Sinks(received=received, data_dir=data_dir, event_log=event_log,
                        logs=log_stream.getvalue(), content_on_spans=request.param)
    finally:
        obs_logger.removeHandler(log_handler)
        obs_logger.setLevel(previous_level)


def test_the_run_really_reached_every_sink(sinks: Sinks) -> None:
    assert len(sinks.received.spans) == 4 * len(SAMPLES)
    assert (sinks.data_dir / "traces.db").exists()
    assert (sinks.data_dir / "payloads.db").exists()
    assert sinks.event_log.getvalue().count("\n") >= 3 * len(SAMPLES)


@pytest.mark.parametrize("kind", STRICT_KINDS)
def test_no_planted_value_of_a_strict_kind_reaches_any_sink(
        kind: str, sinks: Sinks, request: pytest.FixtureRequest) -> None:
    if kind == "SECRET":
        sinks.expect_json_escaping_leak(request)
    everything = sinks.everything()
    leaked = sorted({p.value for s in SAMPLES for p in s.planted
                     if p.kind == kind and p.value in everything})
    assert leaked == []


def test_no_person_name_the_scrubber_catches_reaches_any_sink(
        sinks: Sinks, request: pytest.FixtureRequest) -> None:
    sinks.expect_json_escaping_leak(request)
    scrubber = Scrubber()
    everything = sinks.everything()
    caught: set[str] = set()
    for sample in SAMPLES:
        scrubbed = scrubber.scrub(sample.text)
        caught |= {p.value for p in sample.planted
                   if p.kind == "PERSON" and p.value not in scrubbed}
    assert sorted(v for v in caught if v in everything) == []


def _strict_values(samples: list[Sample]) -> list[str]:
    return [p.value for s in samples for p in s.planted if p.kind in STRICT_KINDS]


def test_personal_data_in_an_error_message_reaches_no_sink(tmp_path: Path) -> None:
    samples = list(SAMPLES[:5])
    with otlp_http_receiver() as (endpoint, received), ScriptedOpenAIServer() as server:
        provider = TracerProvider()
        obs_core.configure(tracer_provider=provider, trace_store=tmp_path / "traces.db",
                           payload_store=tmp_path / "payloads.db", otlp_endpoint=endpoint,
                           otlp_protocol="http/protobuf")
        try:
            for sample in samples:
                _app(provider, server, sample,
                     error_text=f"could not update the record for: {sample.text}")
            assert obs_core.flush(timeout_s=20)
        finally:
            obs_core.shutdown(timeout_s=10)
    everything = Sinks(received=received, data_dir=tmp_path, event_log=io.StringIO(),
                       logs="").everything()
    assert [v for v in _strict_values(samples) if v in everything] == []
