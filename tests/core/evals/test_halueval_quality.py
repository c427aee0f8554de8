"""Regression guard on the headline number: offline groundedness on HaluEval QA."""

from __future__ import annotations

from typing import Any

from obs_core.evals import EvalSample, Groundedness, measure_detection


def _samples(rows: list[dict[str, Any]], answer_key: str) -> list[EvalSample]:
    return [EvalSample(question=r["question"], answer=r[answer_key], contexts=[r["knowledge"]]) for r in rows]


def test_groundedness_separates_right_from_hallucinated_answers(halueval_rows: list[dict[str, Any]]) -> None:
    quality = measure_detection(
        Groundedness(),
        good=_samples(halueval_rows, "right_answer"),
        bad=_samples(halueval_rows, "hallucinated_answer"),
        threshold=0.75,
    )

    assert quality.failures == 0
    assert quality.auroc >= 0.93
    assert quality.flagged >= 0.85
    assert quality.wrongly_flagged <= 0.10
