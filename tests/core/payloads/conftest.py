"""A fresh SQLite payload store per test; the store tests override it with their own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from obs_core.payloads import SQLitePayloadStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLitePayloadStore]:
    s = SQLitePayloadStore(tmp_path / "payloads.db")
    yield s
    s.close()
