"""Conciseness: padding found, and priced in tokens."""

from __future__ import annotations

from obs_core.evals import Conciseness, EvalResult, EvalSample

CAPITAL = "What is the capital of France?"


def _score(question: str, answer: str) -> EvalResult:
    result = Conciseness().evaluate(EvalSample(question=question, answer=answer))
    assert isinstance(result, EvalResult), result
    return result


def test_crisp_answer_wastes_nothing() -> None:
    result = _score(CAPITAL, "Paris.")

    assert (result.score, result.label, result.details["wasted_tokens"]) == (1.0, "concise", 0)


def test_pleasantries_are_padding_and_priced() -> None:
    result = _score(
        CAPITAL,
        "Great question! The capital of France is Paris. I hope this helps! "
        "Let me know if you have any other questions.",
    )

    assert not result.passed
    assert result.label == "verbose"
    assert result.details["waste"]["filler"] == result.details["wasted_tokens"] > 10
    assert "Great question!" in result.details["filler_found"]
    assert f"About {result.details['wasted_tokens']} of {result.details['total_tokens']} tokens" in result.explanation


def test_filler_phrases_inside_a_sentence_cost_only_their_own_tokens() -> None:
    result = _score(CAPITAL, "It is important to note that the capital of France is Paris.")

    assert result.details["filler_found"] == ["it is important to note that"]
    assert 0 < result.details["wasted_tokens"] < result.details["total_tokens"] / 2


def test_repeated_sentence_is_waste() -> None:
    result = _score(CAPITAL, "The capital of France is Paris. Paris is the capital city of France.")

    assert result.details["repeated_sentences"] == ["Paris is the capital city of France."]
    assert result.details["waste"]["repetition"] > 0


def test_restating_the_question_is_waste() -> None:
    result = _score("Which river flows through Vienna?", "Which river flows through Vienna? The Danube does.")

    assert result.details["waste"]["restated_question"] > 0


def test_long_answer_to_a_short_factual_question_is_penalised() -> None:
    history = (
        "The Berlin Wall fell in 1989. The wall had divided the city since 1961, and its fall came after "
        "weeks of protest across East Germany. Border guards opened the crossings on the night of 9 November "
        "after a confused press conference announced new travel rules. Crowds gathered at the checkpoints and "
        "crossed freely, and over the following months the wall was dismantled piece by piece. Germany "
        "reunified in October 1990, ending decades of division between East and West."
    )

    result = _score("What year did the Berlin Wall fall?", history)

    assert not result.passed
    assert result.details["waste"]["over_length"] > 0
    assert result.details["expected_tokens"] == 40


def test_open_question_has_no_length_budget() -> None:
    answer = (
        "Sunlight is scattered by the molecules of the air. Shorter blue wavelengths scatter far more than "
        "red ones, so blue light reaches the eye from every part of the sky, while at sunset the light "
        "crosses more air and the blues are scattered away before arriving, leaving reds and oranges."
    )

    result = _score("Why is the sky blue?", answer)

    assert result.score == 1.0
    assert result.details["expected_tokens"] is None
