"""Hostile text in trace ids, filters and command-line arguments is data, never SQL; the CLI
prints payload content literally and never evaluates it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.trace import TracerProvider

import obs_core
from obs_core.cli import main as obs_cli
from obs_core.payloads import SQLitePayloadStore
from obs_core.store import SQLiteTraceStore
from obs_core.store.traces import TraceFilter

INJECTIONS = [
    "x' OR '1'='1",
    "%'; DROP TABLE spans;--",
    "' UNION SELECT name, sql, 1, 1, 1, 1, 1, 1, 1, 1 FROM sqlite_master --",
    "\"; DELETE FROM traces; --",
    "%",
    "a_p",
    "\\",
    "'; ATTACH DATABASE '/tmp/obs-pwned.db' AS pwn; --",
]
EVIL_CONTENT = ("$(touch {marker}) `touch {marker}` __import__('os').system('touch {marker}') "
                "{{0.__class__.__mro__}} %s %(x)s \x1b[31mred\x1b[0m")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sql")
    marker = folder / "evaluated"
    provider = TracerProvider()
    obs_core.configure(tracer_provider=provider, trace_store=folder / "traces.db",
                       payload_store=folder / "payloads.db", capture_content="full")
    try:
        for name in ("alpha", "beta"):
            with obs_core.agent_run(name, tracer_provider=provider) as agent:
                with obs_core.tool_call("shell", arguments=EVIL_CONTENT.format(marker=marker),
                                        tracer_provider=provider) as tool:
                    tool.set_result(EVIL_CONTENT.format(marker=marker))
                agent.finish(stop_reason="final_answer")
        assert obs_core.flush(timeout_s=10)
    finally:
        obs_core.shutdown(timeout_s=5)
    return folder


def _tables(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def _trace_count(db: Path) -> int:
    store = SQLiteTraceStore(db)
    try:
        return len(store.list_traces())
    finally:
        store.close()


@pytest.mark.parametrize("hostile", INJECTIONS)
def test_obs_show_treats_a_hostile_trace_id_as_an_unknown_id(
        hostile: str, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = data_dir / "traces.db"
    before = _tables(db)
    code = obs_cli(["show", hostile, "--db", str(db)])
    out = capsys.readouterr()
    assert code != 0
    assert "invoke_agent" not in out.out
    assert _tables(db) == before
    assert _trace_count(db) == 2


@pytest.mark.parametrize("hostile", INJECTIONS)
def test_obs_traces_name_filter_matches_nothing_and_changes_nothing(
        hostile: str, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = data_dir / "traces.db"
    before = _tables(db)
    code = obs_cli(["traces", "--name", hostile, "--db", str(db)])
    out = capsys.readouterr().out
    assert code == 0
    assert "alpha" not in out
    assert "beta" not in out
    assert _tables(db) == before
    assert _trace_count(db) == 2


@pytest.mark.parametrize("hostile", INJECTIONS)
def test_obs_payloads_treats_a_hostile_trace_id_as_data(
        hostile: str, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = data_dir / "payloads.db"
    before = _tables(db)
    obs_cli(["payloads", hostile, "--db", str(db)])
    out = capsys.readouterr().out
    assert "touch" not in out
    assert _tables(db) == before


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=st.sampled_from("'\"%_;-\\*()= ORDROPalphabet"), max_size=30))
def test_trace_store_filters_never_match_more_than_their_literal_text(
        text: str, data_dir: Path) -> None:
    store = SQLiteTraceStore(data_dir / "traces.db", read_only=True)
    try:
        names = {t.root_name for t in store.list_traces(TraceFilter(name_contains=text))}
        expected = {n for n in ("invoke_agent alpha", "invoke_agent beta") if text.lower() in n}
        assert names == expected  # case-insensitive "contains", wildcards literal
        assert store.get_trace(text) == []
    finally:
        store.close()


def test_payload_content_is_printed_literally_and_never_evaluated(
        data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    marker = data_dir / "evaluated"
    store = SQLitePayloadStore(data_dir / "payloads.db")
    try:
        [trace_id, *_] = {r.trace_id for r in store.search(limit=10)}
    finally:
        store.close()
    assert obs_cli(["payloads", trace_id, "--db", str(data_dir / "payloads.db")]) == 0
    traces = SQLiteTraceStore(data_dir / "traces.db")
    try:
        assert obs_cli(["show", trace_id, "--attrs", "--db", str(data_dir / "traces.db")]) in (0, 1)
    finally:
        traces.close()
    out = capsys.readouterr().out
    assert "__import__('os').system" in out
    assert "{0.__class__.__mro__}" in out
    assert not marker.exists()
