"""AUROC and flag rates, checked on hand-computable cases."""

from __future__ import annotations

import pytest

from obs_core.evals import EvalResult, EvalSample, auroc, measure_detection
from obs_core.evals.base import BaseEvaluator


def test_perfect_separation_is_one() -> None:
    assert auroc(good=[0.9, 0.8], bad=[0.1, 0.2, 0.3]) == 1.0


def test_reversed_separation_is_zero() -> None:
    assert auroc(good=[0.1], bad=[0.9, 0.8]) == 0.0


def test_ties_count_half() -> None:
    assert auroc(good=[0.5, 1.0], bad=[0.5]) == pytest.approx(0.75)


def test_matches_pairwise_definition() -> None:
    good, bad = [0.2, 0.7, 0.7, 0.9, 0.4], [0.1, 0.7, 0.3, 0.8]
    pairwise = sum(1.0 if g > b else 0.5 if g == b else 0.0 for g in good for b in bad) / (len(good) * len(bad))

    assert auroc(good=good, bad=bad) == pytest.approx(pairwise)


def test_empty_side_is_rejected() -> None:
    with pytest.raises(ValueError):
        auroc(good=[], bad=[0.1])


def test_measure_detection_reports_flag_rates_and_failures() -> None:
    class _ByLength(BaseEvaluator):
        default_name = "by_length"
        base_version = "1"

        def _evaluate(self, sample: EvalSample) -> EvalResult:
            if sample.output == "crash":
                raise RuntimeError("boom")
            return self._result(score=len(sample.output) / 10, explanation="")

    quality = measure_detection(
        _ByLength(threshold=0.5),
        good=[EvalSample(output="x" * 9), EvalSample(output="x" * 2)],
        bad=[EvalSample(output="x"), EvalSample(output="crash")],
        threshold=0.5,
    )

    assert (quality.auroc, quality.flagged, quality.wrongly_flagged, quality.failures) == (1.0, 1.0, 0.5, 1)
