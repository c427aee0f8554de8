"""Measuring an evaluator as a detector: AUROC and flag rates on labelled good / bad samples.

Used by the HaluEval benchmark and by anyone calibrating a threshold on their own labelled data.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from obs_core.evals.base import EvalResult, EvalSample, Evaluator

__all__ = ["DetectionQuality", "auroc", "measure_detection"]


def auroc(*, good: Sequence[float], bad: Sequence[float]) -> float:
    """Probability that a random good sample outscores a random bad one (ties count half).

    Rank-based (Mann-Whitney U), so it runs in O(n log n) rather than over all pairs.
    """
    if not good or not bad:
        raise ValueError("auroc needs at least one good and one bad score")
    labelled = sorted([(s, 1) for s in good] + [(s, 0) for s in bad])
    rank_sum_good = 0.0
    i = 0
    while i < len(labelled):
        j = i
        while j < len(labelled) and labelled[j][0] == labelled[i][0]:
            j += 1
        mean_rank = (i + 1 + j) / 2.0
        rank_sum_good += mean_rank * sum(1 for _, label in labelled[i:j] if label == 1)
        i = j
    n_good, n_bad = len(good), len(bad)
    return (rank_sum_good - n_good * (n_good + 1) / 2.0) / (n_good * n_bad)


class DetectionQuality(BaseModel):
    """How well an evaluator separates good samples from bad ones at its threshold."""

    model_config = ConfigDict(extra="forbid")

    evaluator: str
    version: str
    threshold: float
    auroc: float = Field(ge=0.0, le=1.0)
    flagged: float = Field(ge=0.0, le=1.0)
    """Share of bad samples scored below the threshold (recall of the flag)."""
    wrongly_flagged: float = Field(ge=0.0, le=1.0)
    """Share of good samples scored below the threshold (false-positive rate)."""
    good: int
    bad: int
    failures: int
    """Samples the evaluator could not score; they are left out of the numbers above."""


def measure_detection(
    evaluator: Evaluator, *, good: Sequence[EvalSample], bad: Sequence[EvalSample], threshold: float
) -> DetectionQuality:
    """Score both sets and summarise; failures are counted, not scored."""
    good_scores: list[float] = []
    bad_scores: list[float] = []
    failures = 0
    for samples, into in ((good, good_scores), (bad, bad_scores)):
        for sample in samples:
            outcome = evaluator.evaluate(sample)
            if isinstance(outcome, EvalResult):
                into.append(outcome.score)
            else:
                failures += 1
    return DetectionQuality(
        evaluator=evaluator.name,
        version=evaluator.version,
        threshold=threshold,
        auroc=auroc(good=good_scores, bad=bad_scores),
        flagged=sum(s < threshold for s in bad_scores) / len(bad_scores),
        wrongly_flagged=sum(s < threshold for s in good_scores) / len(good_scores),
        good=len(good_scores),
        bad=len(bad_scores),
        failures=failures,
    )
