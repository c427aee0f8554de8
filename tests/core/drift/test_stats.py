"""The two-sample statistics behind drift detection."""

from __future__ import annotations

import random

import pytest

from obs_core.drift import ks_two_sample, psi


def test_identical_samples_have_no_ks_distance() -> None:
    result = ks_two_sample([0.1, 0.5, 0.9], [0.9, 0.1, 0.5])
    assert (result.statistic, result.p_value) == (0.0, 1.0)


def test_disjoint_samples_have_full_ks_distance_and_tiny_p_value() -> None:
    result = ks_two_sample([0.1 * i for i in range(50)], [10 + 0.1 * i for i in range(50)])
    assert result.statistic == 1.0
    assert result.p_value < 1e-10


def test_ks_distance_matches_a_hand_computed_case() -> None:
    # ECDFs of {1,2,3,4} and {3,4,5,6} differ most at x=2: 2/4 - 0/4.
    assert ks_two_sample([1, 2, 3, 4], [3, 4, 5, 6]).statistic == 0.5


def test_ks_p_value_agrees_with_the_asymptotic_distribution() -> None:
    # D = 40/200 with n = m = 200; SciPy's asymptotic p-value for this case is 5.55e-4.
    result = ks_two_sample(list(range(200)), list(range(40, 240)))
    assert result.statistic == pytest.approx(0.2)
    assert result.p_value == pytest.approx(5.55e-4, rel=0.05)


def test_psi_is_zero_for_the_same_distribution_and_grows_with_the_shift() -> None:
    rng = random.Random(5)
    ref = [rng.gauss(0.8, 0.05) for _ in range(500)]
    assert psi(ref, ref) == pytest.approx(0.0, abs=1e-12)
    shifted = [psi(ref, [x - d for x in ref]) for d in (0.01, 0.03, 0.1)]
    assert shifted == sorted(shifted)
    assert shifted[-1] > 1.0


def test_empty_samples_are_rejected() -> None:
    with pytest.raises(ValueError):
        ks_two_sample([], [1.0])
    with pytest.raises(ValueError):
        psi([1.0], [])
