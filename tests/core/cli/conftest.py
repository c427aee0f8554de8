"""Fixtures of the command-line tests: a trace store file filled through the real SDK."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from opentelemetry.trace import format_trace_id

from core.cli.cli_scenarios import Outcome, Recorded, RunObs
from core.store.store_scenarios import TraceBuilder
from obs_core import semconv as sc
from obs_core.cli import main
from obs_core.store import SQLiteTraceStore


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("OBS_TRACE_STORE", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("OBS_DATA_DIR", str(tmp_path / "default-data"))


@pytest.fixture
def recorded(tmp_path: Path) -> Recorded:
    db = tmp_path / "data" / "traces.db"
    ten_minutes_ago = time.time_ns() - 600 * 1_000_000_000
    with SQLiteTraceStore(db) as store:
        recent = TraceBuilder(store, base_ns=ten_minutes_ago)
        agent = recent.agent_run(session="s-1", pipeline_version="v1")
        with recent.span("quick answer", start_ms=60_000, end_ms=60_250,
                         attributes={sc.OBS_SESSION_ID: "s-2"}) as quick:
            recent.llm(start_ms=60_010, model="gpt-4o", input_tokens=1200, output_tokens=34,
                       cost=0.0123)
        recent.provider.shutdown()
        past = TraceBuilder(store)
        with past.span("nightly batch", start_ms=0, end_ms=1000) as old:
            past.llm(start_ms=10)
        past.provider.shutdown()
    return Recorded(
        db=db,
        agent=agent,
        quick=format_trace_id(quick.get_span_context().trace_id),
        old=format_trace_id(old.get_span_context().trace_id),
    )


@pytest.fixture
def run_obs(capsys: pytest.CaptureFixture[str]) -> RunObs:
    """Runs ``obs`` in-process as the console script would and captures what it printed."""

    def run(*argv: str) -> Outcome:
        code = main(list(argv))
        captured = capsys.readouterr()
        return Outcome(code=code, out=captured.out, err=captured.err)

    return run
