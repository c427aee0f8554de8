"""Fixtures of the trace store tests: a store in a fresh data folder, and a span builder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.store.store_scenarios import TraceBuilder
from obs_core.store import SQLiteTraceStore


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "obs-data" / "traces.db"


@pytest.fixture
def store(store_path: Path) -> Iterator[SQLiteTraceStore]:
    with SQLiteTraceStore(store_path) as opened:
        yield opened


@pytest.fixture
def traces(store: SQLiteTraceStore) -> Iterator[TraceBuilder]:
    builder = TraceBuilder(store)
    yield builder
    builder.provider.shutdown()
