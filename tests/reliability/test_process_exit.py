"""A process that ends right after its run (normal end, ``sys.exit``, an unhandled exception)
still leaves the trace in the local store and at the OTLP collector: ``configure()`` defaults,
real subprocesses, ``OBS_DATA_DIR`` in a temporary folder."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from _obs_support import otlp_http_receiver
from obs_core.store import SQLiteTraceStore

pytestmark = pytest.mark.slow

APP = textwrap.dedent("""
    import sys
    import obs_core

    obs_core.configure()
    with obs_core.agent_run("short-lived", max_iterations=2) as agent:
        with obs_core.tool_call("lookup", arguments={"q": "x"}) as tool:
            tool.set_result("found")
        agent.finish(stop_reason="final_answer")
    ending = sys.argv[1]
    if ending == "exit":
        sys.exit(3)
    if ending == "raise":
        raise RuntimeError("the application crashed")
""")

LANGCHAIN_APP = textwrap.dedent("""
    import sys
    from langchain_core.runnables import RunnableLambda
    from obs_langchain import ObsCallbackHandler

    chain = RunnableLambda(lambda x: x + 1).with_config(run_name="add-one")
    assert chain.invoke(1, config={"callbacks": [ObsCallbackHandler()]}) == 2
    sys.exit(0)
""")

EXPECTED_CODES = {"return": 0, "exit": 3, "raise": 1}


def _run(script: str, data_dir: Path, *args: str, env: dict[str, str] | None = None
         ) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith(("OTEL_", "OBS_"))}
    environment.update({"OBS_DATA_DIR": str(data_dir), **(env or {})})
    return subprocess.run([sys.executable, "-c", script, *args], env=environment,
                          capture_output=True, text=True, timeout=60, check=False)


def _root_names(data_dir: Path) -> list[str]:
    store = SQLiteTraceStore(data_dir / "traces.db")
    try:
        return [t.root_name for t in store.list_traces()]
    finally:
        store.close()


@pytest.mark.parametrize("ending", ["return", "exit", "raise"])
def test_the_trace_reaches_the_local_store_however_the_process_ends(
        ending: str, tmp_path: Path) -> None:
    done = _run(APP, tmp_path, ending)
    assert done.returncode == EXPECTED_CODES[ending], done.stderr
    assert _root_names(tmp_path) == ["invoke_agent short-lived"]


def test_the_trace_reaches_an_otlp_collector_when_the_process_raises(tmp_path: Path) -> None:
    with otlp_http_receiver() as (endpoint, received):
        done = _run(APP, tmp_path, "raise", env={
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        })
    assert done.returncode == 1, done.stderr
    assert sorted(s.name for s in received.spans) == [
        "execute_tool lookup", "invoke_agent short-lived"]


def test_a_langchain_run_reaches_the_store_when_the_process_exits_at_once(tmp_path: Path) -> None:
    done = _run(LANGCHAIN_APP, tmp_path)
    assert done.returncode == 0, done.stderr
    assert _root_names(tmp_path) == ["add-one"]
