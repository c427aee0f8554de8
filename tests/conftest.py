"""Suite-wide rules: obs's internal errors are re-raised (strict mode) so bugs cannot hide
behind the never-break-the-host net; each test starts with zeroed self-metrics."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from obs_core import set_strict
from obs_core._selfmetrics import reset as reset_self_metrics


@pytest.fixture(autouse=True)
def _strict_obs(request: pytest.FixtureRequest) -> Iterator[None]:
    """Strict unless a test opts out with ``@pytest.mark.lenient`` (fault-injection tests)."""
    set_strict(request.node.get_closest_marker("lenient") is None)
    reset_self_metrics()
    yield
    set_strict(None)
