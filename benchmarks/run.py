"""Tracing overhead of obs against a no-tracer baseline and against its peers, side by side.

    python benchmarks/run.py            # full: every workload, 3 rounds, RSS over 20,000 runs
    python benchmarks/run.py --quick    # about half a minute: the LCEL chain, every mode, 1 round

Every (workload, mode) measurement runs in a fresh Python process (``_worker.py``), modes
rotate in a different order each round, and only medians and paired ratios are reported: the
machine is shared and noisy, so one absolute time means little. Writes ``RESULTS.md`` next to
this file (or ``--output``) and prints the headline table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _report as report  # noqa: E402
from _modes import MODES, worker_env  # noqa: E402
from _workloads import WORKLOADS  # noqa: E402

VERSIONED = ("langchain-core", "langchain", "langgraph", "llama-index-core", "opentelemetry-sdk",
             "obs-core", "obs-langchain", "obs-llamaindex", "openinference-instrumentation-langchain",
             "openinference-instrumentation-llama-index", "opentelemetry-instrumentation-langchain",
             "opentelemetry-instrumentation-llamaindex", "langfuse", "pydantic", "pyinstrument")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a short run (the LCEL chain, 1 round)")
    p.add_argument("--workloads", help=f"comma list from {', '.join(WORKLOADS)}")
    p.add_argument("--modes", help=f"comma list from {', '.join(MODES)} (baseline is always added)")
    p.add_argument("--rounds", type=int, help="rounds of alternated modes")
    p.add_argument("--budget-s", type=float, help="timed seconds per worker process")
    p.add_argument("--warmup", type=int, help="untimed runs per worker before timing")
    p.add_argument("--rss-runs", type=int, help="runs of the LCEL chain for the RSS check (0: skip)")
    p.add_argument("--rss-agent-runs", type=int, help="runs of the agent for the RSS check (0: skip)")
    p.add_argument("--profile", choices=("auto", "always", "never"), default=None,
                   help="profile obs-default where a target is missed (auto), always, or never")
    p.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    p.add_argument("--json", type=Path, help="also write the raw worker results here")
    p.add_argument("--timeout-s", type=float, default=900.0, help="per worker process")
    args = p.parse_args(argv)
    quick = args.quick
    defaults: dict[str, Any] = {
        "workloads": "lc-lcel" if quick else ",".join(WORKLOADS),
        "modes": ",".join(MODES), "rounds": 1 if quick else 3,
        "budget_s": 0.3 if quick else 1.0, "warmup": 3 if quick else 10,
        "rss_runs": 300 if quick else 20_000, "rss_agent_runs": 0 if quick else 20_000,
        "profile": "never" if quick else "auto",
    }
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.workloads = [w for w in args.workloads.split(",") if w]
    modes = [m for m in args.modes.split(",") if m]
    args.modes = ["baseline", *[m for m in modes if m != "baseline"]]
    for name in args.workloads:
        if name not in WORKLOADS:
            p.error(f"unknown workload {name!r}")
    for name in args.modes:
        if name not in MODES:
            p.error(f"unknown mode {name!r}")
    return args


def _worker(workload: str, mode: str, extra: list[str], *, env: dict[str, str],
            timeout_s: float) -> dict[str, Any]:
    cmd = [sys.executable, str(HERE / "_worker.py"), workload, mode, *extra]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout_s,
                              check=False)
    except subprocess.TimeoutExpired:
        return {"workload": workload, "mode": mode, "status": "error",
                "reason": f"worker timed out after {timeout_s:.0f} s"}
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
        return {"workload": workload, "mode": mode, "status": "error",
                "reason": f"worker exited {done.returncode}: {tail[0][:200]}"}
    result: dict[str, Any] = json.loads(lines[-1])
    if result["status"] == "error":
        sys.stderr.write(done.stderr[-2000:])
    return result


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _versions() -> list[tuple[str, str]]:
    return [(name, _version(name)) for name in VERSIONED]


def _progress(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    started = time.perf_counter()
    timing = ["--budget-s", str(args.budget_s), "--warmup", str(args.warmup)]
    results: list[dict[str, Any]] = []
    rss_rows: list[dict[str, Any]] = []
    profile_rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="obs-bench-") as data_dir:
        env = worker_env(data_dir)
        for rnd in range(args.rounds):
            for w in args.workloads:
                shift = rnd % len(args.modes)
                for mode in args.modes[shift:] + args.modes[:shift]:
                    r = _worker(w, mode, timing, env=env, timeout_s=args.timeout_s)
                    r["round"] = rnd
                    results.append(r)
                    shown = f"{r['cpu_us']:,.0f} CPU µs/run" if r["status"] == "ok" else r["status"]
                    _progress(f"round {rnd + 1}/{args.rounds} {w:<13} {mode:<14} {shown}")
        table = report.summarise(results, args.workloads, args.modes)
        verdicts = report.verdicts(table)

        # The agent is ~30× slower per run than the chain, so only obs is tracked over it.
        lcel_modes = ("obs-default",) if args.quick else ("baseline", "obs-default")
        rss_plan = [(w, m, n) for w, n, modes in (
            ("lc-lcel", args.rss_runs, lcel_modes),
            ("lc-agent", args.rss_agent_runs, ("obs-default",)))
            for m in modes if n and w in args.workloads and m in args.modes]
        for w, m, n in rss_plan:
            _progress(f"RSS {w} {m}: {n:,} runs")
            rss_rows.append(_worker(w, m, ["--warmup", str(args.warmup), "--rss-runs", str(n)],
                                    env=env, timeout_s=args.timeout_s))

        missed = {v.workload for v in verdicts if v.met is False}
        to_profile = (args.workloads if args.profile == "always"
                      else sorted(missed) if args.profile == "auto" else [])
        for w in to_profile:
            runs = 40 if w in ("lc-lcel", "lc-retrieval", "li-query") else 8
            _progress(f"profiling {w} obs-default over {runs} runs")
            row = _worker(w, "obs-default", ["--warmup", "3", "--profile", "--profile-runs", str(runs)],
                          env=env, timeout_s=args.timeout_s)
            profile_rows.append(row)

    elapsed = time.perf_counter() - started
    command = "python benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
    text = _markdown(args, table, verdicts, rss_rows, profile_rows, command.strip(), elapsed)
    args.output.write_text(text, encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps({"results": results, "rss": rss_rows,
                                         "profiles": profile_rows}, indent=1), encoding="utf-8")
    print(report.headline(table, args.modes))
    print()
    print(report.targets(verdicts))
    print(f"\nwritten to {args.output} in {elapsed:.0f} s")
    return 0


def _markdown(args: argparse.Namespace, table: dict[str, dict[str, report.Figures]],
              verdicts: list[report.Verdict], rss_rows: list[dict[str, Any]],
              profile_rows: list[dict[str, Any]], command: str, elapsed: float) -> str:
    versions = "\n".join(f"| {n} | {v} |" for n, v in _versions())
    unavailable = [f for by_mode in table.values() for f in by_mode.values() if not f.ok]
    na = "\n".join(f"- {f.workload} / {f.mode}: {f.status}: {f.reason}" for f in unavailable)
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    sections = [
        "# Benchmark results: tracing overhead\n",
        f"Generated by `{command}` on {when} in {elapsed:.0f} s "
        f"({os.cpu_count()} CPUs, {platform.python_implementation()} {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}, load average at the end "
        f"{_load()}; {_source_state()}). Rounds: {args.rounds}; timed budget per process: {args.budget_s} s after "
        f"{args.warmup} warm-up runs. Regenerate with `make bench` (or `make bench-quick`).\n",
        "How to read it: the primary figure is process CPU time per run (all threads, so "
        "background export and capture work counts), because on a busy machine wall time is "
        "dominated by time slicing: a run that needs more CPU than one scheduler slice waits for "
        "the other processes, which inflates traced modes far beyond their real cost (the "
        "median wall time is still listed). Every figure is a median over rounds; overhead and "
        "× baseline are medians of per-round differences/ratios against the no-tracer baseline "
        "measured in the same round. Each (workload, mode) ran in a fresh process; modes rotate order each round. "
        "All OpenTelemetry modes share one `TracerProvider` with one `SimpleSpanProcessor` and a "
        "counting exporter that drops spans. Attribute bytes are measured on separate, untimed "
        "runs. The machine is shared: compare ratios within a run, not absolute times across runs.\n",
        "## Workloads\n", report.workload_list(args.workloads) + "\n",
        "## Headline\n", report.headline(table, args.modes) + "\n",
        "## Targets\n",
        "obs with default settings: overhead at most one third of the best peer's in the same "
        "run, and at most 80 µs per span.\n",
        report.targets(verdicts) + "\n",
        "## On the application's threads\n",
        "CPU overhead (median over rounds, µs per run and per span) of the threads that run the "
        "application, that is process CPU without the tracers' own background threads (obs "
        "derives span metrics and builds, scrubs and stores payloads there; Langfuse exports "
        "from a batch thread). `noop-handler` is a handler that does nothing, attached the "
        "way obs attaches: what the framework's own callback or dispatcher machinery costs as "
        "soon as any tracer is present.\n",
        report.app_threads(table, args.modes) + "\n",
        "## The floor\n",
        "`bare-spans` is the cheapest tracer that still emits a span per run through the shared "
        "pipeline: one SDK span with a few GenAI attributes per callback, parented by run id, "
        "nothing else (no context activation, payloads, metrics, accounting). Its overhead is "
        "the framework's dispatch plus the OpenTelemetry SDK's own work, which no tracer on this "
        "pipeline avoids. On LlamaIndex it keeps every dispatcher span (obs hides plumbing), so "
        "compare per span there.\n",
        report.floor(table) + "\n",
        "## All figures\n", report.detail(table) + "\n",
        "## Memory (RSS) over many runs\n",
        "RSS sampled after a `gc.collect()` every 1/20 of the runs; the second half must be "
        f"flat: a Theil-Sen slope (median of the slopes between every pair of samples, KB per "
        f"1,000 runs) under {report.FLAT_KB_PER_1K:.0f}. RSS grows in steps of a few hundred "
        "KB when a background queue reaches a new high-water mark; one such step late in a run "
        "tilts the least-squares slope (also listed) past the bound although nothing leaks, "
        "while a leak grows between most pairs of samples and moves both.\n",
        report.rss(rss_rows) + "\n" if rss_rows else "not run (`--rss-runs 0`)\n",
    ]
    # Figures of the side benchmarks and the profiling findings are kept by hand in files of
    # their own, so that regenerating the timing tables never loses them.
    for kept in ("SIDE_RESULTS.md", "FINDINGS.md"):
        path = HERE / kept
        if path.exists():
            text = path.read_text(encoding="utf-8")
            text = re.sub(r"\A<!--.*?-->\n", "", text, flags=re.DOTALL)
            sections += [text.rstrip() + "\n"]
    if profile_rows:
        sections += ["## Where obs spends its time\n", report.profiles(profile_rows)]
    if na:
        sections += ["## Not measured\n", na + "\n"]
    sections += ["## Versions\n", "| package | version |\n|---|---|\n" + versions + "\n"]
    return "\n".join(sections)


def _source_state() -> str:
    """Which obs code was measured: the commit, and whether the packages had local changes."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, cwd=HERE, check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "packages"],
                               capture_output=True, text=True, cwd=HERE.parent, check=True,
                               timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "obs source: unknown (not a git checkout)"
    return f"obs source: commit {head}" + (" with uncommitted changes in packages/" if dirty else "")


def _load() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


if __name__ == "__main__":
    raise SystemExit(main())
