"""In the default capture mode no planted personal value or secret from the shared PII corpus
reaches an evaluator's outbound requests: the LLM judges' chat requests and the embedding
requests of similarity evaluators, captured as HTTP bodies by a scripted OpenAI-compatible
server. The text still arrives, with placeholders where the personal data was.

The application runs in-process evaluation through ``configure(evaluation=...)``, so the
samples come from the application's own inputs, retrieved documents and answers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider

import obs_core
from core.payloads.pii_corpus import SAMPLES, Sample
from obs_core import RetrievedDocument
from obs_core.evals import (
    EvalResult,
    EvalSample,
    JudgeGroundedness,
    LLMJudge,
    OpenAIEmbedder,
    OpenAIJudgeModel,
    Relevance,
)
from obs_core.evals.pipeline import EvaluationSettings
from obs_core.payloads import Scrubber
from obs_core.testing import ScriptedOpenAIServer, ScriptedReply

pytestmark = pytest.mark.slow

STRICT_KINDS = ("EMAIL", "PHONE", "CARD", "IBAN", "SSN", "IP", "SECRET")
RUBRIC = "Does the answer acknowledge the customer's request?"


@dataclass(kw_only=True)
class Outbound:
    chat: list[str]
    """JSON bodies of the judges' ``/chat/completions`` requests."""
    embeddings: list[str]
    """JSON bodies of the ``/embeddings`` requests."""

    def everything(self) -> str:
        return "\n".join([*self.chat, *self.embeddings])


def _judge_script(server: ScriptedOpenAIServer) -> None:
    server.add_rule(ScriptedReply.text('{"claims": ["The request was noted."]}'),
                    contains="self-contained factual claims")
    server.add_rule(ScriptedReply.text('{"verdicts": [{"claim": 1, "supported": true}]}'),
                    contains="decide whether the context supports")
    server.responder = lambda _request: ScriptedReply.text(
        '{"score": 1, "label": "pass", "explanation": "The answer acknowledges it."}')


def _app(provider: TracerProvider, sample: Sample) -> None:
    with obs_core.agent_run("assistant", inputs=sample.text, tracer_provider=provider) as agent:
        with obs_core.retrieval("crm", query=sample.text, tracer_provider=provider) as found:
            found.set_documents([RetrievedDocument(id="note-1", content=f"CRM note: {sample.text}")])
        with obs_core.llm_call(model="gpt-4o-mini", provider="openai", tracer_provider=provider,
                               messages=[{"role": "user", "content": sample.text}]) as call:
            call.set_output({"role": "assistant", "content": f"Noted: {sample.text}"})
            call.set_usage(input_tokens=40, output_tokens=40)
        agent.set_output(f"Noted: {sample.text}")
        agent.finish(stop_reason="final_answer")


@pytest.fixture(scope="module")
def outbound(tmp_path_factory: pytest.TempPathFactory) -> Outbound:
    data_dir: Path = tmp_path_factory.mktemp("pii-evals")
    with ScriptedOpenAIServer() as judge:
        _judge_script(judge)
        model = OpenAIJudgeModel(base_url=judge.base_url, model="judge-mini")
        evaluators = [
            LLMJudge(judge=model, rubric=RUBRIC, requires=("input", "output", "contexts")),
            JudgeGroundedness(judge=model),
            Relevance(embedder=OpenAIEmbedder(base_url=judge.base_url, model="embed-mini")),
        ]
        provider = TracerProvider()
        obs_core.configure(tracer_provider=provider, trace_store=data_dir / "traces.db",
                           payload_store=data_dir / "payloads.db",
                           evaluation=EvaluationSettings(evaluators=evaluators, queue_size=5_000))
        try:
            for sample in SAMPLES:
                _app(provider, sample)
            assert obs_core.flush(timeout_s=120)
        finally:
            obs_core.shutdown(timeout_s=10)
        requests = judge.requests
    return Outbound(
        chat=[json.dumps(r.body, ensure_ascii=False) for r in requests if r.endpoint == "chat"],
        embeddings=[json.dumps(r.body, ensure_ascii=False) for r in requests
                    if r.endpoint == "embeddings"])


def test_every_evaluator_really_sent_requests_for_every_trace(outbound: Outbound) -> None:
    assert len(outbound.chat) == 3 * len(SAMPLES)  # rubric judge, claims, verification
    assert len(outbound.embeddings) >= len(SAMPLES)


@pytest.mark.parametrize("kind", STRICT_KINDS)
def test_no_planted_value_of_a_strict_kind_reaches_an_evaluator_request(
        kind: str, outbound: Outbound) -> None:
    everything = outbound.everything()
    leaked = sorted({p.value for s in SAMPLES for p in s.planted
                     if p.kind == kind and p.value in everything})
    assert leaked == []


def test_no_person_name_the_scrubber_catches_reaches_an_evaluator_request(
        outbound: Outbound) -> None:
    scrubber = Scrubber()
    everything = outbound.everything()
    caught = {p.value for s in SAMPLES for p in s.planted
              if p.kind == "PERSON" and p.value not in scrubber.scrub(s.text)}
    assert sorted(v for v in caught if v in everything) == []


@pytest.mark.parametrize("kind", ["EMAIL", "IBAN", "CARD"])
def test_evaluator_requests_carry_placeholders_where_the_values_were(
        kind: str, outbound: Outbound) -> None:
    assert f"<{kind}" in "\n".join(outbound.chat)
    assert f"<{kind}" in "\n".join(outbound.embeddings)


def test_a_judge_cuts_long_text_after_scrubbing_so_no_value_is_sent_in_part() -> None:
    answer = "Noted. " * 20 + "Write to ana.lopez@example.es today."
    cut_inside_the_address = answer.index("@example") + 4
    with ScriptedOpenAIServer() as judge:
        _judge_script(judge)
        evaluator = LLMJudge(judge=OpenAIJudgeModel(base_url=judge.base_url, model="judge-mini"),
                             rubric=RUBRIC, max_chars=cut_inside_the_address)
        result = evaluator.evaluate(EvalSample(input="Where do I write?", output=answer))
        [request] = judge.requests
    assert isinstance(result, EvalResult)
    assert result.score == 1.0
    sent = json.dumps(request.body)
    assert "ana.lopez" not in sent
    assert "<EMAIL>" in sent
