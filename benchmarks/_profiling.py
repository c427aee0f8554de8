"""Where obs spends its time inside a workload: a sampling profile cut down to obs's share.

Any frame from an obs package marks its whole subtree as obs's cost (what obs calls into, such
as the OpenTelemetry SDK or pydantic, is charged to obs). Reported: obs's share of the run,
obs entry points by inclusive time, and the functions and packages where that time is spent.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from _workloads import RunOnce

OBS_MARKERS = ("/obs_core/", "/obs_langchain/", "/obs_llamaindex/")


def profile_runs(run: RunOnce, *, runs: int, top: int = 15) -> dict[str, Any]:
    try:
        from pyinstrument import Profiler
    except ImportError:
        return {"status": "n/a", "reason": "pyinstrument is not installed"}
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(runs):
        run()
    session = profiler.stop()
    root = session.root_frame(trim_stem=False)
    if root is None:
        return {"status": "n/a", "reason": "no samples"}
    entries: Counter[str] = Counter()
    self_times: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    obs_s = 0.0
    # (frame, inside an obs frame, entry point already named): the never-break-the-host guard
    # wraps every callback, so entry points are named after the first obs frame below it.
    stack: list[tuple[Any, bool, bool]] = [(root, False, False)]
    while stack:
        frame, inside, named = stack.pop()
        is_obs = _is_obs(frame.file_path)
        if is_obs and not inside:
            obs_s += frame.time
        if is_obs and not named and not _is_plumbing(frame.file_path):
            entries[_name(frame)] += frame.time
            named = True
        now_inside = inside or is_obs
        if now_inside and not frame.is_synthetic:
            self_times[_name(frame)] += frame.total_self_time
            packages[_package(frame.file_path)] += frame.total_self_time
        stack.extend((child, now_inside, named) for child in frame.children)
    total_s = root.time

    def share(items: Counter[str]) -> list[list[Any]]:
        return [[name, round(t / runs * 1e6, 1), round(t / obs_s, 3) if obs_s else 0.0]
                for name, t in items.most_common(top)]

    return {"runs": runs, "total_us_per_run": total_s / runs * 1e6,
            "obs_us_per_run": obs_s / runs * 1e6,
            "obs_share": obs_s / total_s if total_s else 0.0,
            "entry_points": share(entries), "self_time": share(self_times),
            "packages": share(packages)}


def _is_obs(path: str | None) -> bool:
    return bool(path) and any(m in path for m in OBS_MARKERS)  # type: ignore[operator]


def _is_plumbing(path: str | None) -> bool:
    return bool(path) and path.endswith("/obs_core/_guard.py")  # type: ignore[union-attr]


def _name(frame: Any) -> str:
    path = frame.file_path or "?"
    module = path.rsplit("/site-packages/", 1)[-1].rsplit("/src/", 1)[-1]
    owner = f"{frame.class_name}." if frame.class_name else ""
    return f"{module}:{frame.line_no} {owner}{frame.function}"


def _package(path: str | None) -> str:
    if not path:
        return "?"
    tail = path.rsplit("/site-packages/", 1)[-1].rsplit("/src/", 1)[-1]
    if tail.startswith("/"):  # the standard library
        return "stdlib:" + tail.rsplit("/", 1)[-1]
    parts = tail.split("/")
    return parts[0] if parts[0] != "opentelemetry" else "/".join(parts[:3])
