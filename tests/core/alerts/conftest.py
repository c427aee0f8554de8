"""Fixtures of the alert tests: a hand-driven clock and a sink that remembers what it got."""

from __future__ import annotations

import pytest

from obs_core.alerts import AlertEvent


class FakeClock:
    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RecordingSink:
    def __init__(self) -> None:
        self.events: list[AlertEvent] = []

    def send(self, event: AlertEvent) -> None:
        self.events.append(event)

    def summary(self) -> list[tuple[str, str]]:
        return [(e.rule, e.status) for e in self.events]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()
