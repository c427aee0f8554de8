"""The circuit breaker that protects a failing judge."""

from __future__ import annotations

from obs_core.evals.pipeline import BreakerState, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _opened(clock: Clock) -> CircuitBreaker:
    breaker = CircuitBreaker(failures=3, reset_s=10.0, clock=clock)
    for _ in range(3):
        assert breaker.allow()
        breaker.record(success=False)
    return breaker


def test_it_opens_after_n_consecutive_failures_and_refuses_calls() -> None:
    breaker = _opened(Clock())

    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow()


def test_a_success_resets_the_failure_count() -> None:
    breaker = CircuitBreaker(failures=2, reset_s=10.0)
    breaker.record(success=False)
    breaker.record(success=True)
    breaker.record(success=False)

    assert breaker.state is BreakerState.CLOSED


def test_after_the_reset_time_one_probe_goes_through() -> None:
    clock = Clock()
    breaker = _opened(clock)
    clock.now += 10.0

    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow()
    assert not breaker.allow()


def test_a_successful_probe_closes_the_circuit() -> None:
    clock = Clock()
    breaker = _opened(clock)
    clock.now += 10.0
    breaker.allow()

    breaker.record(success=True)

    assert breaker.state is BreakerState.CLOSED
    assert breaker.allow()


def test_a_failed_probe_opens_it_again_for_another_period() -> None:
    clock = Clock()
    breaker = _opened(clock)
    clock.now += 10.0
    breaker.allow()

    breaker.record(success=False)

    assert breaker.state is BreakerState.OPEN
    clock.now += 9.0
    assert not breaker.allow()
