"""One measurement in a fresh process: ``python benchmarks/_worker.py WORKLOAD MODE [options]``.

Prints one JSON object on stdout (see :func:`measure`); everything else goes to stderr. A mode
or workload that cannot run prints ``{"status": "n/a", "reason": ...}`` and exits 0, so the
harness fills in as packages land instead of crashing.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import logging
import statistics
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _modes import MODES, Tracing, Unavailable
from _workloads import WORKLOADS, RunOnce


def rss_kb() -> int:
    """Resident set size now, from /proc (Linux), else the peak from getrusage."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        import os

        return pages * os.sysconf("SC_PAGE_SIZE") // 1024
    except OSError:
        import resource

        return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def slope_per_1k(points: list[tuple[int, int]]) -> float:
    """Least-squares slope in KB per 1,000 runs."""
    if len(points) < 2:
        return 0.0
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    if var == 0:
        return 0.0
    return 1000 * sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var


def robust_slope_per_1k(points: list[tuple[int, int]]) -> float:
    """Theil-Sen slope (the median of the slopes between every pair of samples) in KB per
    1,000 runs. RSS moves in steps when an allocator takes a new block (a queue reaching a new
    high-water mark, say), and one such step can tilt a least-squares line as much as a
    leak; it hardly moves the median of pairwise slopes, while a leak, which grows between
    most pairs of samples, moves it fully."""
    slopes = [(y2 - y1) / (x2 - x1)
              for i, (x1, y1) in enumerate(points) for x2, y2 in points[i + 1:] if x2 != x1]
    return 1000 * statistics.median(slopes) if slopes else 0.0


def _timed(run: RunOnce, *, budget_s: float, min_runs: int,
           max_runs: int) -> tuple[list[int], int, int]:
    """Wall time of each run, the process CPU time of all of them (every thread, so a tracer's
    background work counts), and that CPU time without the tracers' background threads."""
    samples: list[int] = []
    gc.collect()
    deadline = time.perf_counter() + budget_s
    background = _tracer_threads()
    bg0 = _cpu_ns(background)
    cpu0 = time.process_time_ns()
    while len(samples) < max_runs and (len(samples) < min_runs or time.perf_counter() < deadline):
        t0 = time.perf_counter_ns()
        run()
        samples.append(time.perf_counter_ns() - t0)
    cpu = time.process_time_ns() - cpu0
    bg1 = _cpu_ns(background)
    return samples, cpu, cpu - sum(bg1[c] - bg0[c] for c in bg1 if c in bg0)


TRACER_THREAD_PREFIXES = ("obs-", "OtelBatch", "OtelPeriodic", "langfuse", "Langfuse")
"""Names of tracers' own background threads (obs's writer, metrics and export workers; the
OpenTelemetry SDK's batch processors, which Langfuse uses). Threads the framework starts, such
as LangGraph's executor, belong to the application."""


def _tracer_threads() -> list[int]:
    """CPU clock ids of the tracers' background threads alive now."""
    clocks = []
    for thread in threading.enumerate():
        if thread.ident is not None and thread.name.startswith(TRACER_THREAD_PREFIXES):
            try:
                clocks.append(time.pthread_getcpuclockid(thread.ident))
            except (OSError, AttributeError):  # not on this platform: counted as application
                continue
    return clocks


def _cpu_ns(clocks: list[int]) -> dict[int, int]:
    out = {}
    for clock in clocks:
        with contextlib.suppress(OSError):  # the thread ended
            out[clock] = time.clock_gettime_ns(clock)
    return out


def _rss_track(run: RunOnce, runs: int, samples: int = 20) -> dict[str, Any]:
    step = max(1, runs // samples)
    gc.collect()
    points = [(0, rss_kb())]
    for i in range(1, runs + 1):
        run()
        if i % step == 0:
            gc.collect()
            points.append((i, rss_kb()))
    second_half = [p for p in points if p[0] >= runs // 2]
    return {"runs": runs, "start_kb": points[0][1], "end_kb": points[-1][1],
            "points": points, "slope_kb_per_1k_second_half": slope_per_1k(second_half),
            "robust_slope_kb_per_1k_second_half": robust_slope_per_1k(second_half),
            "slope_kb_per_1k_all": slope_per_1k(points)}


def measure(args: argparse.Namespace) -> dict[str, Any]:
    workload = WORKLOADS[args.workload]
    result: dict[str, Any] = {"workload": workload.name, "mode": args.mode, "status": "ok"}
    try:
        tracing: Tracing = MODES[args.mode](workload.framework)
    except Unavailable as exc:
        return {**result, "status": "n/a", "reason": str(exc)}
    except ImportError as exc:
        return {**result, "status": "n/a", "reason": f"import failed: {exc}"}
    try:
        run = workload.build(tracing.callbacks)
    except ImportError as exc:
        return {**result, "status": "n/a", "reason": f"workload needs a missing package: {exc}"}
    result["note"] = tracing.note
    exporter = tracing.exporter
    for _ in range(args.warmup):
        run()
    if args.profile:
        return {**result, **_profile(run, args)}
    if args.rss_runs:
        return {**result, "rss": _rss_track(run, args.rss_runs)}
    before = exporter.spans if exporter else 0
    samples, cpu_ns, app_ns = _timed(run, budget_s=args.budget_s, min_runs=args.min_runs,
                                     max_runs=args.max_runs)
    spans = (exporter.spans - before) if exporter else 0
    result.update(runs=len(samples), cpu_us=cpu_ns / len(samples) / 1000,
                  app_cpu_us=app_ns / len(samples) / 1000,
                  wall_median_us=statistics.median(samples) / 1000,
                  wall_mean_us=statistics.fmean(samples) / 1000,
                  spans_per_run=spans / len(samples))
    if exporter is not None and args.bytes_runs:
        exporter.measure, exporter.attribute_bytes = True, 0
        for _ in range(args.bytes_runs):
            run()
        exporter.measure = False
        result["attribute_bytes_per_run"] = exporter.attribute_bytes / args.bytes_runs
    else:
        result["attribute_bytes_per_run"] = 0.0
    if exporter is not None and spans == 0:
        result["note"] = (result["note"] + "; " if result["note"] else "") + "produced no spans"
    return result


def _profile(run: RunOnce, args: argparse.Namespace) -> dict[str, Any]:
    from _profiling import profile_runs

    return {"profile": profile_runs(run, runs=args.profile_runs)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("workload", choices=sorted(WORKLOADS))
    parser.add_argument("mode", choices=sorted(MODES))
    parser.add_argument("--budget-s", type=float, default=1.0, help="timed seconds per process")
    parser.add_argument("--min-runs", type=int, default=5)
    parser.add_argument("--max-runs", type=int, default=100_000)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--bytes-runs", type=int, default=3, help="untimed runs sizing attributes")
    parser.add_argument("--rss-runs", type=int, default=0, help="track RSS over this many runs")
    parser.add_argument("--profile", action="store_true", help="profile instead of timing")
    parser.add_argument("--profile-runs", type=int, default=50)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    try:
        result = measure(args)
    except Exception as exc:  # noqa: BLE001 - any failure is a result row, not a crash
        traceback.print_exc()
        result = {"workload": args.workload, "mode": args.mode, "status": "error",
                  "reason": f"{type(exc).__name__}: {exc}"[:300]}
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
