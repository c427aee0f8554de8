"""``python -m obs_core.cli`` in a real process, on a real store file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from core.cli.cli_scenarios import Recorded
from core.store.store_scenarios import span_record
from obs_core.store import SQLiteTraceStore


def obs(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})}
    return subprocess.run([sys.executable, "-m", "obs_core.cli", *argv], capture_output=True,
                          text=True, encoding="utf-8", timeout=60, env=full_env, check=False)


def test_traces_lists_the_store_in_a_separate_process(recorded: Recorded) -> None:
    done = obs("traces", "--db", str(recorded.db), "--since", "1h")

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].split()[:3] == ["TIME", "TRACE", "ROOT"]
    assert len(done.stdout.splitlines()) == 3
    assert "\x1b[" not in done.stdout


def test_show_finds_a_trace_by_prefix_through_the_environment(recorded: Recorded) -> None:
    done = obs("show", recorded.agent[:10], env={"OBS_TRACE_STORE": str(recorded.db)})

    assert done.returncode == 0, done.stderr
    assert "invoke_agent support" in done.stdout
    assert "tools: lookup_order 2 calls (1 failed)" in done.stdout


def test_errors_exit_non_zero_without_a_traceback(recorded: Recorded) -> None:
    done = obs("show", "ffffffffff", "--db", str(recorded.db))

    assert done.returncode == 1
    assert done.stderr.startswith("obs: no trace id starts with")
    assert "Traceback" not in done.stderr


def test_a_closed_pipe_ends_the_output_quietly(tmp_path: Path) -> None:
    db = tmp_path / "big.db"
    with SQLiteTraceStore(db) as store:  # far more output than a pipe buffers
        store.write([span_record("b16", "root", end_ms=5000)] + [
            span_record("b16", f"s{n:05d}", name=f"step {n}", start_ms=n, end_ms=n + 1,
                        parent="root") for n in range(3000)
        ])
    with subprocess.Popen(
        [sys.executable, "-m", "obs_core.cli", "show", "b16", "--db", str(db)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    ) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        process.stdout.read(10)
        process.stdout.close()
        stderr = process.stderr.read().decode()
        code = process.wait(timeout=60)

    assert "Traceback" not in stderr
    assert code == 0
