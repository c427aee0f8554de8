"""Relevance: does the answer address the question?"""

from __future__ import annotations

from obs_core.evals import EvalFailure, EvalResult, EvalSample, Relevance


def _score(question: str, answer: str, evaluator: Relevance | None = None) -> EvalResult:
    result = (evaluator or Relevance()).evaluate(EvalSample(question=question, answer=answer))
    assert isinstance(result, EvalResult), result
    return result


def test_on_topic_answer_is_relevant() -> None:
    result = _score("How do I reset my password?", "Open Settings, choose Account, then click Reset password.")

    assert result.passed
    assert result.label == "relevant"


def test_off_topic_answer_is_irrelevant_and_says_what_it_missed() -> None:
    result = _score("How do I reset my password?", "Bananas are rich in potassium.")

    assert not result.passed
    assert result.label == "irrelevant"
    assert result.score == 0.0
    assert "reset, password" in result.explanation


def test_short_answer_of_the_asked_type_is_direct() -> None:
    result = _score("When was the Eiffel Tower built?", "In 1889.")

    assert result.passed
    assert result.details["expected_type"] == "date"
    assert result.details["direct_answer"] is True


def test_answer_lacking_the_asked_type_and_topic_is_irrelevant() -> None:
    result = _score("When was the Eiffel Tower built?", "The weather in Lisbon is mild.")

    assert not result.passed
    assert "asks for a date" in result.explanation


def test_yes_no_question_accepts_bare_yes() -> None:
    assert _score("Is Paris the capital of France?", "Yes.").passed


def test_embedder_similarity_drives_the_score() -> None:
    class _Fixed:
        name = "fixed"

        def __init__(self, cosine_like: float) -> None:
            self.vectors = [[1.0, 0.0], [cosine_like, (1 - cosine_like**2) ** 0.5]]

        def embed(self, texts: list[str]) -> list[list[float]]:
            return self.vectors

    question, answer = "Explain how vaccines train the immune system.", "They expose it to a harmless antigen."
    close = _score(question, answer, Relevance(embedder=_Fixed(0.6)))
    far = _score(question, answer, Relevance(embedder=_Fixed(0.05)))

    assert close.passed
    assert not far.passed
    assert close.details["similarity"] == 0.6
    assert close.version == "1.0+fixed"


def test_missing_question_yields_failure_record() -> None:
    outcome = Relevance().evaluate(EvalSample(answer="Paris."))

    assert isinstance(outcome, EvalFailure)
    assert outcome.error_type == "MissingInputError"
