"""A judge's own model calls must not be traced as the application's (suppressed instrumentation)."""

from __future__ import annotations

import pytest

from obs_core.evals import EvalResult, EvalSample
from obs_core.evals.judge import LLMJudge
from obs_core.testing import ScriptedOpenAIServer, ScriptedReply, capture_spans


def test_an_instrumented_langchain_judge_records_no_spans() -> None:
    obs_langchain = pytest.importorskip("obs_langchain")
    langchain_openai = pytest.importorskip("langchain_openai")
    with capture_spans() as capture, ScriptedOpenAIServer() as server:
        obs_langchain.instrument(tracer_provider=capture.tracer_provider)
        try:
            server.enqueue(ScriptedReply(content='{"score": 1, "explanation": "fine"}'))
            chat = langchain_openai.ChatOpenAI(model="gpt-4o-mini", base_url=server.base_url,
                                               api_key="sk-test", max_retries=0)

            result = LLMJudge(judge=chat, rubric="Is it right?").evaluate(
                EvalSample(input="q", output="a"))
        finally:
            obs_langchain.uninstrument()

        assert isinstance(result, EvalResult)
        assert capture.spans == []
