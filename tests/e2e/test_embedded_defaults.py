"""configure() with no arguments: traces in the local store, payloads scrubbed in the payload
store, both readable with the ``obs`` command."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from opentelemetry.sdk.trace import TracerProvider

import obs_core
from obs_core.cli import main as obs_cli
from obs_core.payloads import SQLitePayloadStore
from obs_core.store import SQLiteTraceStore
from obs_core.testing import ScriptedOpenAIServer, ScriptedReply

PLANTED_EMAIL = "jane.doe@example.com"
PLANTED_KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("OBS_DATA_DIR", str(tmp_path))
    yield tmp_path
    obs_core.shutdown(timeout_s=5)


def _run_app(provider: TracerProvider) -> str:
    with ScriptedOpenAIServer() as server:
        server.enqueue(ScriptedReply.text(f"I emailed {PLANTED_EMAIL} for you."))
        client = obs_core.instrument_openai(
            openai.OpenAI(base_url=server.base_url, api_key="k", max_retries=0),
            tracer_provider=provider)
        with obs_core.agent_run("mailer", max_iterations=3, tracer_provider=provider) as agent:
            reply = client.chat.completions.create(model="gpt-4o-mini", messages=[
                {"role": "user", "content": f"Email {PLANTED_EMAIL}; my key is {PLANTED_KEY}"}])
            agent.finish(stop_reason="final_answer")
        client.close()
    return str(reply.id)


def test_trace_and_scrubbed_payload_land_in_the_embedded_stores(
        data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    provider = TracerProvider()
    obs_core.configure(tracer_provider=provider)
    _run_app(provider)
    assert obs_core.flush(timeout_s=10)

    traces = SQLiteTraceStore(data_dir / "traces.db")
    [summary] = traces.list_traces()
    assert summary.root_name == "invoke_agent mailer"
    trace_id = summary.trace_id
    traces.close()

    payloads = SQLitePayloadStore(data_dir / "payloads.db")
    records = payloads.get_trace(trace_id)
    payloads.close()
    assert [r.kind for r in records] == ["llm"]
    raw = json.dumps([r.model_dump(mode="json") for r in records])
    assert PLANTED_EMAIL not in raw
    assert PLANTED_KEY not in raw
    assert "<EMAIL" in raw

    assert obs_cli(["show", trace_id, "--db", str(data_dir / "traces.db")]) == 0
    shown = capsys.readouterr().out
    assert "invoke_agent mailer" in shown
    assert "chat gpt-4o-mini" in shown


def test_capture_none_writes_no_payloads(data_dir: Path) -> None:
    provider = TracerProvider()
    obs_core.configure(tracer_provider=provider, capture_content="none")
    _run_app(provider)
    assert obs_core.flush(timeout_s=10)
    assert not (data_dir / "payloads.db").exists()


def test_configured_evaluation_scores_finished_traces_into_the_store(data_dir: Path) -> None:
    from obs_core.evals import Safety
    from obs_core.evals.pipeline import EvaluationSettings
    from obs_core.store import SQLiteEvaluationStore

    provider = TracerProvider()
    obs_core.configure(tracer_provider=provider,
                       evaluation=EvaluationSettings(evaluators=[Safety()]))
    _run_app(provider)
    assert obs_core.flush(timeout_s=10)
    traces = SQLiteTraceStore(data_dir / "traces.db")
    [app_trace] = [t for t in traces.list_traces() if t.root_name == "invoke_agent mailer"]
    traces.close()
    with SQLiteEvaluationStore(data_dir / "traces.db") as evaluations:
        rows = evaluations.for_trace(app_trace.trace_id)
    assert [(r.evaluator, r.passed) for r in rows] == [("safety", True)]
