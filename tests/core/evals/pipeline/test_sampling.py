"""Which traces get evaluated."""

from __future__ import annotations

import pytest

from obs_core.evals.pipeline import SamplingPolicy, in_sample

TRACE_IDS = [f"{i:032x}" for i in range(2_000)]


def test_the_same_trace_gets_the_same_decision_every_time() -> None:
    first = [in_sample(t, "groundedness", 0.3) for t in TRACE_IDS]
    second = [in_sample(t, "groundedness", 0.3) for t in TRACE_IDS]

    assert first == second


def test_the_sampled_share_follows_the_rate() -> None:
    share = sum(in_sample(t, "relevance", 0.25) for t in TRACE_IDS) / len(TRACE_IDS)

    assert share == pytest.approx(0.25, abs=0.04)


def test_evaluators_sample_different_traces() -> None:
    a = {t for t in TRACE_IDS if in_sample(t, "a", 0.5)}
    b = {t for t in TRACE_IDS if in_sample(t, "b", 0.5)}

    assert a != b


def test_rates_zero_and_one_are_exact() -> None:
    assert not any(in_sample(t, "x", 0.0) for t in TRACE_IDS)
    assert all(in_sample(t, "x", 1.0) for t in TRACE_IDS)


def test_per_evaluator_rates_override_the_default() -> None:
    policy = SamplingPolicy(rate=0.0, rates={"safety": 1.0})

    assert policy.selects(TRACE_IDS[0], "safety", forced=False)
    assert not policy.selects(TRACE_IDS[0], "relevance", forced=False)


@pytest.mark.parametrize(("facts", "reason"), [
    ({"errored": True, "duration_s": 0.1, "limit_hit": False}, "error"),
    ({"errored": False, "duration_s": 0.1, "limit_hit": True}, "limit_hit"),
    ({"errored": False, "duration_s": 12.0, "limit_hit": False}, "slow"),
    ({"errored": False, "duration_s": 0.1, "limit_hit": False}, None),
])
def test_errored_slow_and_limit_hit_traces_are_always_evaluated(
        facts: dict[str, object], reason: str | None) -> None:
    policy = SamplingPolicy(rate=0.0, always_slow_s=10.0)

    assert policy.forced_reason(**facts) == reason  # type: ignore[arg-type]


def test_rates_outside_zero_to_one_are_rejected() -> None:
    with pytest.raises(ValueError, match="outside"):
        SamplingPolicy(rate=1.5)
