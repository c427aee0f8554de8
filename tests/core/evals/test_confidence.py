"""Logprob confidence: the model's certainty on the facts it stated."""

from __future__ import annotations

import math

import pytest

from obs_core.evals import EvalFailure, EvalResult, EvalSample, LogprobConfidence

CONFIDENT = [("The", -0.01), (" tower", -0.05), (" was", -0.02), (" completed", -0.1), (" in", -0.01),
             (" 18", -0.05), ("89", -0.02), (" by", -0.1), (" Gust", -0.05), ("ave", -0.001), (" Eiffel", -0.01), (".", -0.001)]
GUESSING = [("The", -0.01), (" tower", -0.05), (" was", -0.02), (" completed", -0.1), (" in", -0.01),
            (" 19", -1.9), ("02", -2.3), (" by", -0.1), (" Jean", -1.2), (" Moreau", -2.5), (".", -0.001)]


def _score(tokens: list[tuple[str, float]]) -> EvalResult:
    result = LogprobConfidence().evaluate(EvalSample(answer="".join(t for t, _ in tokens), logprobs=tokens))
    assert isinstance(result, EvalResult), result
    return result


def test_high_logprob_facts_are_confident() -> None:
    result = _score(CONFIDENT)

    assert result.passed
    assert result.label == "confident"
    assert result.details["factual_words"] == ["1889", "Gustave", "Eiffel"]
    assert result.score == pytest.approx(math.exp(result.details["mean_logprob"]), abs=1e-3)


def test_low_logprob_facts_are_flagged_and_listed() -> None:
    result = _score(GUESSING)

    assert not result.passed
    assert result.label == "uncertain"
    assert result.details["mean_logprob"] < -0.4
    assert [item["text"] for item in result.details["low_confidence"]] == ["Moreau", "1902", "Jean"]
    assert "Moreau" in result.explanation
    assert "1902" in result.explanation


def test_doubt_on_filler_words_does_not_flag_confident_facts() -> None:
    hesitant_filler = [(t, -3.0 if t.strip() in {"was", "completed", "by"} else lp) for t, lp in CONFIDENT]

    assert _score(hesitant_filler).passed


def test_threshold_is_the_exponent_of_the_flag_level() -> None:
    evaluator = LogprobConfidence(flag_below=-0.4)

    assert evaluator.threshold == pytest.approx(math.exp(-0.4))


def test_answer_without_facts_falls_back_to_all_tokens() -> None:
    result = _score([("sure", -0.9), (",", -0.2), (" maybe", -1.1)])

    assert result.details["basis"] == "all tokens"
    assert not result.passed


def test_missing_logprobs_yield_failure_record() -> None:
    outcome = LogprobConfidence().evaluate(EvalSample(answer="Paris."))

    assert isinstance(outcome, EvalFailure)
    assert outcome.error_type == "MissingInputError"


def test_positive_flag_level_is_rejected() -> None:
    with pytest.raises(ValueError, match="flag_below"):
        LogprobConfidence(flag_below=0.3)
