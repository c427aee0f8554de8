"""Reliability suite fixtures. Sizes follow ``OBS_RELIABILITY_SCALE`` (``full`` for the
documented full sizes, CI sizes otherwise); see :mod:`reliability._faults`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import obs_core


@pytest.fixture
def unconfigured() -> Iterator[None]:
    """Leaves no ``configure()`` state behind for the next test."""
    yield
    obs_core.shutdown(timeout_s=5)
