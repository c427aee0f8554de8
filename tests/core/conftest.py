from __future__ import annotations

from collections.abc import Iterator

import pytest

from _obs_support import Spans
from obs_core import Recorder, RecorderSettings


@pytest.fixture
def spans() -> Spans:
    return Spans()


@pytest.fixture
def recorder(spans: Spans) -> Iterator[Recorder]:
    rec = Recorder(tracer_provider=spans.provider, settings=RecorderSettings())
    yield rec
    rec.close()
