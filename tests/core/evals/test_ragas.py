"""RAGAS faithfulness through the obs judge adapter, offline against the scripted server."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from obs_core.evals import EvalFailure, EvalResult, EvalSample
from obs_core.evals.judge import OpenAIJudgeModel
from obs_core.evals.ragas import RagasMetric, ragas_available
from obs_core.testing import ScriptedOpenAIServer, ScriptedReply


@pytest.fixture(autouse=True)
def _needs_ragas() -> None:
    """Checked when a test runs, not at collection: importing RAGAS takes seconds."""
    if not ragas_available():
        pytest.skip("ragas (with langchain-community<0.4) is not installed")

STATEMENTS = "Break down each sentence into one or more fully understandable statements"
VERDICTS = "judge the faithfulness of a series of statements"
SAMPLE = EvalSample(
    input="Where is the Eiffel Tower and how tall is it?",
    output="The Eiffel Tower is in Paris. It is 500 metres tall.",
    contexts=["The Eiffel Tower is a wrought-iron tower in Paris, France. It is 330 metres tall."],
)


@pytest.fixture
def server() -> Iterator[ScriptedOpenAIServer]:
    with ScriptedOpenAIServer() as srv:
        srv.add_rule(ScriptedReply(content=json.dumps({"statements": [
            "The Eiffel Tower is in Paris.", "The Eiffel Tower is 500 metres tall."]})),
            contains=STATEMENTS)
        srv.add_rule(ScriptedReply(content=json.dumps({"statements": [
            {"statement": "The Eiffel Tower is in Paris.", "reason": "stated", "verdict": 1},
            {"statement": "The Eiffel Tower is 500 metres tall.", "reason": "330 m",
             "verdict": 0},
        ]})), contains=VERDICTS)
        yield srv


def _metric(server: ScriptedOpenAIServer) -> RagasMetric:
    return RagasMetric(judge=OpenAIJudgeModel(base_url=server.base_url, model="gpt-4o-mini",
                                              json_mode=False))


def test_ragas_faithfulness_scores_the_share_of_supported_statements(
        server: ScriptedOpenAIServer) -> None:
    result = _metric(server).evaluate(SAMPLE)

    assert isinstance(result, EvalResult), result
    assert result.name == "ragas_faithfulness"
    assert result.score == pytest.approx(0.5)
    assert result.passed is True


def test_ragas_judge_calls_are_accounted_as_judge_usage(server: ScriptedOpenAIServer) -> None:
    result = _metric(server).evaluate(SAMPLE)

    assert isinstance(result, EvalResult)
    usage = result.details["judge"]
    assert usage["calls"] == len(server.requests) == 2
    assert usage["input_tokens"] == sum(u.prompt_tokens for u in server.usage_log)


def test_ragas_sees_scrubbed_text(server: ScriptedOpenAIServer) -> None:
    sample = SAMPLE.model_copy(update={"input": "Ask jane.doe@example.com: where is the tower?"})

    _metric(server).evaluate(sample)

    assert all("jane.doe@example.com" not in json.dumps(r.body) for r in server.requests)


def test_ragas_faithfulness_without_contexts_is_a_missing_input(
        server: ScriptedOpenAIServer) -> None:
    result = _metric(server).evaluate(EvalSample(input="q", output="a"))

    assert isinstance(result, EvalFailure)
    assert result.error_type == "MissingInputError"
    assert server.requests == []
