"""LLM-as-judge against a real HTTP endpoint (the scripted OpenAI server) and LangChain."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import pytest
from opentelemetry import context as otel_context

from obs_core.evals import EvalFailure, EvalResult, EvalSample
from obs_core.evals.judge import (
    JudgeGroundedness,
    JudgeReply,
    LLMJudge,
    OpenAIJudgeModel,
)
from obs_core.testing import ScriptedOpenAIServer, ScriptedReply

RUBRIC = "Is the answer correct and helpful for the question?"
SAMPLE = EvalSample(input="What is the capital of France?", output="Paris is the capital.")


@pytest.fixture
def server() -> Iterator[ScriptedOpenAIServer]:
    with ScriptedOpenAIServer() as srv:
        yield srv


def _judge(server: ScriptedOpenAIServer, **options: Any) -> LLMJudge:
    options.setdefault("sleep", lambda _s: None)
    timeout = options.pop("timeout_s", 5.0)
    model = OpenAIJudgeModel(base_url=server.base_url, model="gpt-4o-mini", api_key="sk-test",
                             timeout_s=timeout)
    return LLMJudge(judge=model, rubric=RUBRIC, **options)


def _verdict(score: float, label: str = "good", explanation: str = "Correct.") -> ScriptedReply:
    return ScriptedReply(content=json.dumps({"score": score, "label": label,
                                             "explanation": explanation}))


def test_a_high_score_from_the_judge_passes(server: ScriptedOpenAIServer) -> None:
    server.enqueue(_verdict(0.9, "correct", "The answer names Paris."))

    result = _judge(server).evaluate(SAMPLE)

    assert isinstance(result, EvalResult)
    assert (result.score, result.passed, result.label) == (0.9, True, "correct")
    assert result.explanation == "The answer names Paris."


def test_a_low_score_from_the_judge_fails(server: ScriptedOpenAIServer) -> None:
    server.enqueue(_verdict(0.1, "wrong", "Paris is not mentioned."))

    result = _judge(server).evaluate(SAMPLE)

    assert isinstance(result, EvalResult)
    assert result.passed is False
    assert result.score == pytest.approx(0.1)


def test_judge_usage_is_reported_in_details_as_the_endpoint_billed_it(
        server: ScriptedOpenAIServer) -> None:
    server.enqueue(_verdict(1.0))

    result = _judge(server).evaluate(SAMPLE)

    assert isinstance(result, EvalResult)
    billed = server.usage_log[0]
    usage = result.details["judge"]
    assert (usage["input_tokens"], usage["output_tokens"]) == (billed.prompt_tokens,
                                                              billed.completion_tokens)
    assert usage["calls"] == 1
    assert usage["model"] == "openai:gpt-4o-mini"


def test_garbage_is_asked_again_with_backoff_then_parsed(server: ScriptedOpenAIServer) -> None:
    server.enqueue(ScriptedReply(content="I think it is fine."), _verdict(0.8))
    slept: list[float] = []

    result = _judge(server, backoff_s=0.25, sleep=slept.append).evaluate(SAMPLE)

    assert isinstance(result, EvalResult)
    assert result.score == pytest.approx(0.8)
    assert result.details["judge"]["retries"] == 1
    assert slept == [0.25]
    assert len(server.requests) == 2
    assert "could not be read" in server.requests[1].last_text


def test_endless_garbage_becomes_a_failure_after_bounded_retries(
        server: ScriptedOpenAIServer) -> None:
    server.responder = lambda _request: ScriptedReply(content="no json here")

    result = _judge(server, max_retries=2).evaluate(SAMPLE)

    assert isinstance(result, EvalFailure)
    assert result.error_type == "JudgeOutputError"
    assert len(server.requests) == 3


def test_a_judge_slower_than_its_timeout_becomes_a_timeout_failure(
        server: ScriptedOpenAIServer) -> None:
    server.enqueue(ScriptedReply(content='{"score": 1}', delay=3.0))

    result = _judge(server, timeout_s=0.3).evaluate(SAMPLE)

    assert isinstance(result, EvalFailure)
    assert result.error_type == "TimeoutError"


def test_judge_http_errors_become_failures(server: ScriptedOpenAIServer) -> None:
    from obs_core.testing import ScriptedError

    server.enqueue(ScriptedReply(error=ScriptedError(status=503, message="overloaded")))

    result = _judge(server).evaluate(SAMPLE)

    assert isinstance(result, EvalFailure)
    assert result.error_type == "JudgeError"
    assert "503" in result.message


def test_text_sent_to_the_judge_is_scrubbed(server: ScriptedOpenAIServer) -> None:
    server.enqueue(_verdict(1.0))
    sample = EvalSample(input="Mail jane.doe@example.com about the invoice",
                        output="I emailed jane.doe@example.com.")

    _judge(server).evaluate(sample)

    sent = json.dumps(server.requests[0].body)
    assert "jane.doe@example.com" not in sent
    assert "invoice" in sent


def test_a_sample_missing_required_fields_fails_without_calling_the_judge(
        server: ScriptedOpenAIServer) -> None:
    result = _judge(server, requires=("input", "output", "contexts")).evaluate(SAMPLE)

    assert isinstance(result, EvalFailure)
    assert result.error_type == "MissingInputError"
    assert server.requests == []


def test_scores_on_a_custom_scale_are_normalised(server: ScriptedOpenAIServer) -> None:
    server.enqueue(ScriptedReply(content='```json\n{"score": "4", "explanation": "ok"}\n```'))

    result = _judge(server, scale=(1, 5)).evaluate(SAMPLE)

    assert isinstance(result, EvalResult)
    assert result.score == pytest.approx(0.75)
    assert result.label == "pass"


def test_the_version_changes_with_the_rubric(server: ScriptedOpenAIServer) -> None:
    model = OpenAIJudgeModel(base_url=server.base_url, model="m")

    first = LLMJudge(judge=model, rubric="Be correct.").version
    second = LLMJudge(judge=model, rubric="Be kind.").version

    assert first != second


class _RecordingModel:
    """A judge model that notes whether instrumentation was suppressed while it ran."""

    def __init__(self, replies: Sequence[str]) -> None:
        self.replies = list(replies)
        self.suppressed: list[object] = []

    @property
    def model_id(self) -> str:
        return "fake:judge"

    def complete(self, messages: Sequence[Any]) -> JudgeReply:
        del messages
        self.suppressed.append(
            otel_context.get_value(otel_context._SUPPRESS_INSTRUMENTATION_KEY))
        return JudgeReply(text=self.replies.pop(0), input_tokens=3, output_tokens=2)


def test_langchain_and_llamaindex_style_judges_run_with_instrumentation_suppressed() -> None:
    class FakeChat:
        model_name = "fake-chat"
        seen: object = None

        def invoke(self, messages: list[dict[str, str]]) -> Any:
            FakeChat.seen = otel_context.get_value("suppress_instrumentation")

            class Message:
                content = '{"score": 1, "explanation": "fine"}'
                usage_metadata: ClassVar[dict[str, int]] = {"input_tokens": 7, "output_tokens": 4}
                response_metadata: ClassVar[dict[str, str]] = {}

            return Message()

    result = LLMJudge(judge=FakeChat(), rubric=RUBRIC).evaluate(SAMPLE)

    assert isinstance(result, EvalResult)
    assert FakeChat.seen is True
    assert result.details["judge"]["model"] == "langchain:fake-chat"
    assert result.details["judge"]["input_tokens"] == 7


def test_a_custom_judge_model_is_used_as_is() -> None:
    model = _RecordingModel(['{"score": 0.3, "label": "weak", "explanation": "vague"}'])

    result = LLMJudge(judge=model, rubric=RUBRIC).evaluate(SAMPLE)

    assert isinstance(result, EvalResult)
    assert (result.label, result.passed) == ("weak", False)
    assert result.details["judge"]["input_tokens"] == 3


def test_groundedness_judge_scores_the_share_of_supported_claims() -> None:
    model = _RecordingModel([
        '{"claims": ["Paris is the capital of France.", "Paris has 90 million people."]}',
        '{"verdicts": [{"claim": 1, "supported": true, "reason": "stated"},'
        ' {"claim": 2, "supported": false, "reason": "not stated"}]}',
    ])
    sample = EvalSample(input="Tell me about Paris",
                        output="Paris is the capital of France and has 90 million people.",
                        contexts=["Paris is the capital of France."])

    result = JudgeGroundedness(judge=model).evaluate(sample)

    assert isinstance(result, EvalResult)
    assert result.score == pytest.approx(0.5)
    assert result.label == "ungrounded"
    assert "90 million" in result.explanation
    assert result.details["judge"]["calls"] == 2


def test_groundedness_judge_needs_contexts() -> None:
    model = _RecordingModel([])

    result = JudgeGroundedness(judge=model).evaluate(SAMPLE)

    assert isinstance(result, EvalFailure)
    assert result.error_type == "MissingInputError"


def test_langchain_chat_openai_works_as_a_judge(server: ScriptedOpenAIServer) -> None:
    langchain_openai = pytest.importorskip("langchain_openai")
    server.enqueue(_verdict(0.7, "ok", "Mostly right."))
    chat = langchain_openai.ChatOpenAI(model="gpt-4o-mini", base_url=server.base_url,
                                       api_key="sk-test", max_retries=0)

    result = LLMJudge(judge=chat, rubric=RUBRIC).evaluate(SAMPLE)

    assert isinstance(result, EvalResult)
    assert result.score == pytest.approx(0.7)
    billed = server.usage_log[0]
    assert result.details["judge"]["input_tokens"] == billed.prompt_tokens
    assert server.requests[0].messages[0]["role"] == "system"


def test_llamaindex_openai_llm_works_as_a_judge(server: ScriptedOpenAIServer) -> None:
    llama_openai = pytest.importorskip("llama_index.llms.openai")
    server.enqueue(_verdict(0.2, "wrong", "Not Paris."))
    llm = llama_openai.OpenAI(model="gpt-4o-mini", api_base=server.base_url, api_key="sk-test",
                              max_retries=0)

    result = LLMJudge(judge=llm, rubric=RUBRIC).evaluate(SAMPLE)

    assert isinstance(result, EvalResult)
    assert (result.score, result.passed) == (0.2, False)
    assert result.details["judge"]["model"] == "llamaindex:gpt-4o-mini"
    assert result.details["judge"]["input_tokens"] == server.usage_log[0].prompt_tokens
