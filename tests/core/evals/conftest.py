from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

HALUEVAL = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "halueval_qa_dev.jsonl"
"""Shared data sits beside the repository: ``<root>/../shared/data``."""


@pytest.fixture(scope="session")
def halueval_rows() -> list[dict[str, Any]]:
    if not HALUEVAL.exists():
        pytest.skip(f"HaluEval dev file not found at {HALUEVAL}")
    with HALUEVAL.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
