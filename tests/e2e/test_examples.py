"""Every example runs as a user would run it: a fresh interpreter, offline, exit status 0, and
printing what its docstring promises."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

_EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

_PROMISES = {
    "demo.py": ("invoke_agent weather-assistant", "RunnableSequence",
                "RetrieverQueryEngine.query", "steps 2/4 · stop: final_answer"),
    "langchain_agents.py": ("'stop_reason': 'final_answer'", "'max_iterations_reached': True"),
    "langchain_rag.py": ("gen_ai.usage.input_tokens",),
    "llamaindex_agents.py": ("'stop_reason': 'handoff'", "'max_iterations_reached': True"),
    "llamaindex_rag_query.py": ("obs.pipeline.version",),
}


def test_every_example_has_a_promise() -> None:
    assert sorted(p.name for p in _EXAMPLES.glob("*.py")) == sorted(_PROMISES)


@pytest.mark.parametrize("name", sorted(_PROMISES))
def test_example_runs_offline_and_prints_its_findings(name: str, tmp_path: Path) -> None:
    env = {**os.environ, "OBS_DATA_DIR": str(tmp_path), "HF_HUB_OFFLINE": "1",
           "OTEL_TRACES_EXPORTER": "none", "OTEL_METRICS_EXPORTER": "none"}
    done = subprocess.run([sys.executable, str(_EXAMPLES / name)], capture_output=True,
                          text=True, timeout=120, env=env, check=False)

    assert done.returncode == 0, done.stderr[-3000:]
    for promise in _PROMISES[name]:
        assert promise in done.stdout, f"{promise!r} missing from:\n{done.stdout[-3000:]}"
