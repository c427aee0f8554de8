"""The evaluator contract: samples in, results or failure records out, never an exception."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import TypeAdapter, ValidationError

from obs_core._selfmetrics import snapshot
from obs_core.evals import (
    BaseEvaluator,
    EvalFailure,
    EvalOutcome,
    EvalResult,
    EvalSample,
    Evaluator,
    Groundedness,
    MissingInputError,
    TokenLogprob,
)


class _Exploding(BaseEvaluator):
    default_name = "exploding"
    base_version = "0.1"

    def _evaluate(self, sample: EvalSample) -> EvalResult:
        raise ZeroDivisionError("division by zero in the scorer")


class _Length(BaseEvaluator):
    default_name = "length"
    base_version = "2"

    def _evaluate(self, sample: EvalSample) -> EvalResult:
        return self._result(score=min(1.0, len(sample.output) / 10), explanation="by length")


def test_crashing_evaluator_returns_failure_record() -> None:
    outcome = _Exploding(threshold=0.5).evaluate(EvalSample(output="x"))

    assert isinstance(outcome, EvalFailure)
    assert (outcome.name, outcome.version, outcome.error_type) == ("exploding", "0.1", "ZeroDivisionError")
    assert "division by zero" in outcome.message


def test_crash_is_counted_as_internal_error() -> None:
    _Exploding(threshold=0.5).evaluate(EvalSample(output="x"))

    assert snapshot()["internal_errors"] == {"evaluator:exploding": 1}


async def test_async_twin_also_returns_failure_record() -> None:
    outcome = await _Exploding(threshold=0.5).aevaluate(EvalSample(output="x"))

    assert isinstance(outcome, EvalFailure)
    assert outcome.error_type == "ZeroDivisionError"


async def test_async_twin_matches_sync_result() -> None:
    evaluator = _Length(threshold=0.5)
    sample = EvalSample(output="twelve chars")

    sync, async_ = evaluator.evaluate(sample), await evaluator.aevaluate(sample)

    assert isinstance(sync, EvalResult)
    assert isinstance(async_, EvalResult)
    assert (async_.score, async_.passed) == (sync.score, sync.passed) == (1.0, True)


async def test_cancellation_is_not_swallowed() -> None:
    class _Slow(_Length):
        async def _aevaluate(self, sample: EvalSample) -> EvalResult:
            await asyncio.sleep(10)
            return self._evaluate(sample)

    task = asyncio.create_task(_Slow(threshold=0.5).aevaluate(EvalSample(output="x")))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_missing_input_is_a_failure_record_not_an_exception() -> None:
    outcome = Groundedness().evaluate(EvalSample(question="q", answer="Paris is in France."))

    assert isinstance(outcome, EvalFailure)
    assert outcome.error_type == MissingInputError.__name__
    assert snapshot()["internal_errors"] == {}


def test_result_carries_label_threshold_version_and_duration() -> None:
    result = _Length(threshold=0.5).evaluate(EvalSample(output="abc"))

    assert isinstance(result, EvalResult)
    assert (result.name, result.label, result.passed, result.threshold, result.version) == ("length", "fail", False, 0.5, "2")
    assert result.score == pytest.approx(0.3)
    assert result.duration_ms is not None
    assert result.duration_ms >= 0


def test_custom_name_is_used_in_results() -> None:
    result = _Length(threshold=0.5, name="answer_length").evaluate(EvalSample(output="abc"))

    assert result.name == "answer_length"


def test_threshold_outside_unit_interval_is_rejected() -> None:
    with pytest.raises(ValueError, match="threshold"):
        _Length(threshold=1.5)


def test_sample_accepts_question_and_answer_aliases() -> None:
    sample = EvalSample(question="Where?", answer="Here.")

    assert (sample.input, sample.output, sample.question, sample.answer) == ("Where?", "Here.", "Where?", "Here.")


def test_sample_reads_text_from_document_like_contexts() -> None:
    class _LangChainDoc:
        page_content = "from a LangChain document"

    sample = EvalSample(contexts=[_LangChainDoc(), {"content": "from a dict"}, "plain"])

    assert sample.contexts == ["from a LangChain document", "from a dict", "plain"]


def test_sample_accepts_logprob_pairs() -> None:
    sample = EvalSample(logprobs=[("Paris", -0.01), (" is", -0.2)])

    assert sample.logprobs == [TokenLogprob(token="Paris", logprob=-0.01), TokenLogprob(token=" is", logprob=-0.2)]


def test_positive_logprob_is_rejected() -> None:
    with pytest.raises(ValidationError):
        EvalSample(logprobs=[("Paris", 0.5)])


def test_sample_rejects_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        EvalSample(output="x", context="typo for contexts")  # type: ignore[call-arg]


def test_score_outside_unit_interval_is_rejected() -> None:
    with pytest.raises(ValidationError):
        EvalResult(name="n", score=1.2, label="l", passed=True, threshold=0.5, explanation="", version="1")


def test_outcomes_round_trip_through_json() -> None:
    adapter: TypeAdapter[EvalOutcome] = TypeAdapter(EvalOutcome)
    result = _Length(threshold=0.5).evaluate(EvalSample(output="abcdefghijk"))
    failure = _Exploding(threshold=0.5).evaluate(EvalSample(output="x"))

    assert adapter.validate_json(adapter.dump_json(result)) == result
    assert adapter.validate_json(adapter.dump_json(failure)) == failure


def test_evaluators_satisfy_the_protocol() -> None:
    assert isinstance(_Length(threshold=0.5), Evaluator)
    assert isinstance(Groundedness(), Evaluator)
