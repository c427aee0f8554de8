"""Groundedness: claims of the answer checked against the retrieved contexts."""

from __future__ import annotations

import time

import pytest

from obs_core.evals import EvalFailure, EvalResult, EvalSample, Groundedness, HashingEmbedder

EIFFEL = (
    "The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France. "
    "It is named after the engineer Gustave Eiffel, whose company designed and built the tower "
    "from 1887 to 1889. The tower is 330 metres tall, about the same height as an 81-storey building."
)
BRONTE = (
    "Wuthering Heights is the only novel by Emily Brontë, first published in 1847 under the "
    "pseudonym Ellis Bell. Her sister Charlotte Brontë published Jane Eyre in the same year."
)


def _score(answer: str, *, question: str = "", contexts: list[str] | None = None) -> EvalResult:
    result = Groundedness().evaluate(EvalSample(question=question, answer=answer, contexts=contexts or [EIFFEL]))
    assert isinstance(result, EvalResult), result
    return result


def test_answer_restating_the_context_is_grounded() -> None:
    result = _score("The Eiffel Tower is 330 metres tall.", question="How tall is the Eiffel Tower?")

    assert result.passed
    assert result.label == "grounded"
    assert result.score >= 0.75


def test_fabricated_numbers_are_flagged_and_named() -> None:
    result = _score("The Eiffel Tower is 300 metres tall and was built in 1901.", question="How tall is the Eiffel Tower?")

    assert not result.passed
    assert result.label == "ungrounded"
    assert "300" in result.explanation
    assert "1901" in result.explanation
    assert {"300", "1901"} <= set(result.details["unsupported_terms"])


def test_fabricated_entity_is_flagged() -> None:
    result = _score("The tower was designed by Alexandre Dumas.", question="Who designed the Eiffel Tower?")

    assert not result.passed
    assert {"Alexandre", "Dumas"} <= set(result.details["unsupported_terms"])


def test_correct_short_answer_is_grounded_and_wrong_one_is_not() -> None:
    question = "Which novel did Emily Brontë write?"

    right = _score("Wuthering Heights", question=question, contexts=[BRONTE])
    wrong = _score("Agnes Grey", question=question, contexts=[BRONTE])

    assert right.score == 1.0
    assert wrong.score < 0.2


def test_words_copied_from_the_question_are_not_evidence() -> None:
    question = "In what year was Wuthering Heights by Emily Brontë first published?"

    result = _score("Wuthering Heights by Emily Brontë was first published in 1850.", question=question, contexts=[BRONTE])

    assert not result.passed
    assert result.details["unsupported_terms"] == ["1850"]


def test_facts_stitched_from_different_passages_are_flagged() -> None:
    question = "Under which pseudonym was Wuthering Heights published?"

    result = _score("It was published under the pseudonym Charlotte Brontë.", question=question, contexts=[BRONTE])

    assert not result.passed
    assert result.details["unsupported_terms"] == []
    assert "found only in other passages" in result.explanation


def test_unsupported_negation_is_flagged() -> None:
    result = _score("Gustave Eiffel's company did not build the tower.", question="Who built the Eiffel Tower?")

    assert not result.passed
    assert result.details["claims"][0]["unsupported_negation"] is True


def test_answer_scores_as_its_weakest_claim() -> None:
    result = _score("The Eiffel Tower is in Paris. It was painted gold by Napoleon.", question="Where is the Eiffel Tower?")

    first, second = result.details["claims"]
    assert first["score"] >= 0.75 > second["score"]
    assert result.score == pytest.approx(second["score"], abs=1e-3)
    assert "1 of 2 claim(s)" in result.explanation
    assert "Napoleon" in result.explanation


def test_bare_yes_no_answer_has_nothing_to_contradict() -> None:
    result = _score("Yes.", question="Is the Eiffel Tower in Paris?")

    assert result.score == 1.0
    assert "no checkable claim" in result.explanation


def test_spelling_variants_of_names_still_match() -> None:
    result = _score("Emily Bronte wrote it in 1847.", contexts=[BRONTE])

    assert result.passed


def test_missing_contexts_yield_failure_record() -> None:
    outcome = Groundedness().evaluate(EvalSample(question="q", answer="An answer.", contexts=["   "]))

    assert isinstance(outcome, EvalFailure)
    assert outcome.error_type == "MissingInputError"


def test_crashing_embedder_yields_failure_record() -> None:
    class _Broken:
        def embed(self, texts: list[str]) -> list[list[float]]:
            raise ConnectionError("embedding service unreachable")

    outcome = Groundedness(embedder=_Broken()).evaluate(EvalSample(answer="The tower is tall.", contexts=[EIFFEL]))

    assert isinstance(outcome, EvalFailure)
    assert (outcome.error_type, outcome.message) == ("ConnectionError", "embedding service unreachable")


def test_embedder_similarity_credits_paraphrased_words_but_not_numbers() -> None:
    class _SaysSame:
        """Every text embeds to the same vector: the claim paraphrases its context perfectly."""

        name = "same"

        def embed(self, texts: list[str]) -> list[list[float]]:
            return [[1.0, 0.0] for _ in texts]

    answer = "The tower was erected and completed between 1887 and 1889."
    sample = EvalSample(question="When was it built?", answer=answer, contexts=[EIFFEL])
    fabricated = sample.model_copy(update={"output": answer.replace("1889", "1895")})
    lexical, semantic = Groundedness().evaluate(sample), Groundedness(embedder=_SaysSame()).evaluate(sample)
    still_wrong = Groundedness(embedder=_SaysSame()).evaluate(fabricated)

    assert isinstance(lexical, EvalResult)
    assert isinstance(semantic, EvalResult)
    assert isinstance(still_wrong, EvalResult)
    assert not lexical.passed
    assert semantic.passed
    assert not still_wrong.passed
    assert semantic.version == "1.0+same"


def test_hashing_embedder_keeps_lexical_verdicts() -> None:
    evaluator = Groundedness(embedder=HashingEmbedder())

    grounded = evaluator.evaluate(EvalSample(answer="The tower is 330 metres tall.", contexts=[EIFFEL]))
    fabricated = evaluator.evaluate(EvalSample(answer="The tower is 512 metres tall.", contexts=[EIFFEL]))

    assert isinstance(grounded, EvalResult)
    assert isinstance(fabricated, EvalResult)
    assert grounded.passed
    assert not fabricated.passed


def test_oversized_input_is_truncated_not_refused() -> None:
    evaluator = Groundedness(max_context_chars=1_000)

    result = evaluator.evaluate(EvalSample(answer="The tower is 330 metres tall.", contexts=[EIFFEL * 50]))

    assert isinstance(result, EvalResult)
    assert result.details["truncated"] is True


def test_typical_sample_is_scored_in_well_under_ten_milliseconds() -> None:
    evaluator = Groundedness()
    samples = [
        EvalSample(
            question="How tall is the Eiffel Tower and who built it?",
            answer="The Eiffel Tower is 330 metres tall. Gustave Eiffel's company designed and built it from 1887 to 1889.",
            contexts=[EIFFEL, BRONTE, f"{EIFFEL} It had {n} visitors."],  # distinct contexts: no index reuse
        )
        for n in range(20)
    ]
    evaluator.evaluate(samples[0])

    started = time.process_time()  # CPU time: robust to other jobs on a shared runner
    for sample in samples[1:]:
        evaluator.evaluate(sample)
    per_sample_ms = (time.process_time() - started) * 1000 / (len(samples) - 1)

    assert per_sample_ms < 10
