"""Soak: many agent runs in one process, with ``configure()`` defaults (trace store and scrubbed
payload capture in a temporary ``OBS_DATA_DIR``); RSS must stay flat in the second half and no
span may be left open at the end.

    python benchmarks/soak.py                      # full: 20,000 agent runs per framework
    python benchmarks/soak.py --runs 2000          # a quicker look
    python benchmarks/soak.py --framework langchain

Each framework runs in a fresh Python process, so one framework's memory does not hide
another's. Exits 1 when a criterion fails. The CI-sized check is ``tests/reliability/test_soak.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
FRAMEWORKS = ("langchain", "llamaindex", "manual")
MAX_SECOND_HALF_GROWTH_MIB = 8.0
"""RSS may move by allocator noise; a leak of 1 KiB per run over 10,000 runs is 10 MiB."""


def _rss_mib() -> float:
    with open("/proc/self/statm", encoding="ascii") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _langchain_runner() -> tuple[Any, Any]:
    from langchain.agents import create_agent
    from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
    from langchain_core.messages import AIMessage
    from langchain_core.tools import tool

    from obs_langchain import ObsCallbackHandler

    class ToolCallingFake(FakeMessagesListChatModel):
        def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
            return self

    @tool
    def lookup(query: str) -> str:
        """Look the query up."""
        return f"found {query}"

    script = [AIMessage(content="", tool_calls=[{"name": "lookup", "args": {"query": "x"},
                                                 "id": "c1"}]),
              AIMessage(content="done")]
    agent = create_agent(model=ToolCallingFake(responses=script), tools=[lookup], name="soak")
    handler = ObsCallbackHandler()

    def run(i: int) -> None:
        agent.invoke({"messages": [("user", f"look up item {i} for ann@example.com")]},
                     config={"callbacks": [handler]})

    return run, handler.recorder


def _llamaindex_runner() -> tuple[Any, Any]:
    from llama_index.core.agent.workflow import FunctionAgent
    from llama_index.core.llms.mock import MockFunctionCallingLLM

    import obs_llamaindex

    def find(query: str) -> str:
        """Find the query."""
        return f"found {query}"

    handle = obs_llamaindex.instrument()
    agent = FunctionAgent(name="soak", description="Finds things.", tools=[find],
                          llm=MockFunctionCallingLLM(), streaming=False)
    loop = asyncio.new_event_loop()

    async def once(i: int) -> Any:
        return await agent.run(user_msg=f"find item {i} for ann@example.com")

    def run(i: int) -> None:
        loop.run_until_complete(once(i))

    return run, handle.recorder


def _manual_runner() -> tuple[Any, Any]:
    import obs_core
    from obs_core._shared_recorder import shared_recorder

    def run(i: int) -> None:
        with obs_core.agent_run("soak", max_iterations=3) as agent:
            with obs_core.llm_call(model="gpt-4o-mini", provider="openai", messages=[
                    {"role": "user", "content": f"item {i} for ann@example.com"}]) as call:
                call.set_usage(input_tokens=12, output_tokens=3)
            with obs_core.tool_call("lookup", arguments={"item": i}) as tool:
                tool.set_result("found")
            agent.finish(stop_reason="final_answer")

    run(-1)
    return run, shared_recorder(None, None, obs_core.current_settings())


def soak_one(framework: str, runs: int, samples: int) -> dict[str, Any]:
    """Run inside the worker process: returns the measurements as a JSON-able dict."""
    import obs_core

    obs_core.configure()
    run, recorder = {"langchain": _langchain_runner, "llamaindex": _llamaindex_runner,
                     "manual": _manual_runner}[framework]()
    every = max(1, runs // samples)
    rss: list[tuple[int, float]] = []
    started = time.perf_counter()
    for i in range(runs):
        run(i)
        if (i + 1) % every == 0:
            gc.collect()
            rss.append((i + 1, _rss_mib()))
    elapsed = time.perf_counter() - started
    obs_core.flush(timeout_s=30)
    metrics = obs_core.self_metrics()
    obs_core.shutdown(timeout_s=30)
    half = [mib for n, mib in rss if n > runs // 2]
    return {
        "framework": framework, "runs": runs, "seconds": round(elapsed, 1),
        "ms_per_run": round(elapsed / runs * 1000, 2),
        "rss_start_mib": round(rss[0][1], 1), "rss_mid_mib": round(half[0], 1),
        "rss_end_mib": round(rss[-1][1], 1),
        "second_half_growth_mib": round(half[-1] - half[0], 2),
        "second_half_median_step_kib": round(
            statistics.median(b - a for a, b in itertools.pairwise(half)) * 1024, 1)
        if len(half) > 1 else 0.0,
        "open_runs": recorder.open_run_count, "open_spans_gauge": metrics["gauges"]["open_spans"],
        "dropped": metrics["dropped"], "internal_errors": metrics["internal_errors"],
    }


def _passed(result: dict[str, Any]) -> bool:
    return (result["second_half_growth_mib"] <= MAX_SECOND_HALF_GROWTH_MIB
            and result["open_runs"] == 0 and result["open_spans_gauge"] == 0
            and not result["internal_errors"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=20_000, help="agent runs per framework")
    parser.add_argument("--framework", choices=[*FRAMEWORKS, "all"], default="all")
    parser.add_argument("--samples", type=int, default=40, help="RSS samples per framework")
    parser.add_argument("--worker", choices=FRAMEWORKS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(soak_one(args.worker, args.runs, args.samples)))
        return 0
    chosen = FRAMEWORKS if args.framework == "all" else (args.framework,)
    failed = False
    print(f"{'framework':<11} {'runs':>7} {'ms/run':>7} {'RSS start':>9} {'mid':>7} {'end':>7} "
          f"{'2nd-half growth':>15} {'open':>5} {'dropped':<20} verdict")
    for framework in chosen:
        with tempfile.TemporaryDirectory() as data_dir:
            env = {**os.environ, "OBS_DATA_DIR": data_dir}
            done = subprocess.run(
                [sys.executable, __file__, "--worker", framework, "--runs", str(args.runs),
                 "--samples", str(args.samples)],
                env=env, capture_output=True, text=True, check=False, cwd=REPO)
        if done.returncode != 0:
            print(f"{framework:<11} worker failed:\n{done.stderr[-3000:]}")
            failed = True
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        ok = _passed(r)
        failed |= not ok
        print(f"{framework:<11} {r['runs']:>7} {r['ms_per_run']:>7} {r['rss_start_mib']:>9} "
              f"{r['rss_mid_mib']:>7} {r['rss_end_mib']:>7} {r['second_half_growth_mib']:>12} MiB "
              f"{r['open_runs']:>5} {json.dumps(r['dropped']):<20} {'ok' if ok else 'FAIL'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
