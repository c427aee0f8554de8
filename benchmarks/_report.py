"""Turns worker results into figures (medians, paired ratios) and the RESULTS.md text."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from _modes import PEERS
from _workloads import WORKLOADS

MAX_US_PER_SPAN = 80.0
PEER_FRACTION = 1 / 3


@dataclass(kw_only=True)
class Figures:
    """One workload in one mode, over all rounds."""

    workload: str
    mode: str
    status: str
    reason: str = ""
    rounds: int = 0
    cpu_us: float = 0.0
    """Process CPU time per run (all threads): the primary figure, immune to time slicing."""
    app_cpu_us: float = 0.0
    """CPU time per run without the tracers' own background threads: what the tracer's
    callbacks cost the code being traced, without the work it defers to those threads."""
    app_overhead_us: float = 0.0
    wall_us: float = 0.0
    """Median wall time of one run: what a user waits, inflated when the machine is busy."""
    overhead_us: float = 0.0
    ratio: float = 1.0
    spans_per_run: float = 0.0
    attribute_bytes_per_run: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def overhead_per_span_us(self) -> float | None:
        return self.overhead_us / self.spans_per_run if self.spans_per_run else None

    @property
    def app_overhead_per_span_us(self) -> float | None:
        return self.app_overhead_us / self.spans_per_run if self.spans_per_run else None


def summarise(results: Sequence[dict[str, Any]], workloads: Iterable[str],
              modes: Sequence[str]) -> dict[str, dict[str, Figures]]:
    """Medians over rounds; overhead and ratio are medians of per-round differences against the
    baseline measured in the same round, so slow phases of a shared machine cancel out."""
    table: dict[str, dict[str, Figures]] = {}
    for w in workloads:
        rows = [r for r in results if r["workload"] == w]
        base = {r["round"]: r["cpu_us"] for r in rows
                if r["mode"] == "baseline" and r["status"] == "ok"}
        base_app = {r["round"]: r.get("app_cpu_us", r["cpu_us"]) for r in rows
                       if r["mode"] == "baseline" and r["status"] == "ok"}
        table[w] = {}
        for m in modes:
            mine = [r for r in rows if r["mode"] == m]
            good = [r for r in mine if r["status"] == "ok"]
            if not good:
                bad = mine[0] if mine else {"status": "n/a", "reason": "not run"}
                table[w][m] = Figures(workload=w, mode=m, status=bad["status"],
                                      reason=bad.get("reason", ""))
                continue
            paired = [(r["cpu_us"], base[r["round"]]) for r in good if r["round"] in base]
            fig = Figures(workload=w, mode=m, status="ok", rounds=len(good),
                          cpu_us=statistics.median(r["cpu_us"] for r in good),
                          wall_us=statistics.median(r["wall_median_us"] for r in good),
                          spans_per_run=statistics.median(r["spans_per_run"] for r in good),
                          attribute_bytes_per_run=statistics.median(
                              r.get("attribute_bytes_per_run", 0.0) for r in good),
                          notes=sorted({r["note"] for r in good if r.get("note")}))
            fig.app_cpu_us = statistics.median(
                r.get("app_cpu_us", r["cpu_us"]) for r in good)
            if paired:
                fig.overhead_us = statistics.median(a - b for a, b in paired)
                fig.ratio = statistics.median(a / b for a, b in paired if b)
                fig.app_overhead_us = statistics.median(
                    r.get("app_cpu_us", r["cpu_us"]) - base_app[r["round"]]
                    for r in good if r["round"] in base_app)
            table[w][m] = fig
    return table


@dataclass(kw_only=True)
class Verdict:
    workload: str
    obs_overhead_us: float | None
    best_peer: str | None
    best_peer_overhead_us: float | None
    per_span_us: float | None
    app_per_span_us: float | None = None
    """obs's overhead per span on the application's threads (background work left out)."""
    peer_target_met: bool | None
    span_target_met: bool | None

    @property
    def met(self) -> bool | None:
        if self.peer_target_met is None and self.span_target_met is None:
            return None
        return bool(self.peer_target_met is not False and self.span_target_met is not False)


def _best_peer(by_mode: dict[str, Figures]) -> Figures | None:
    """The peer with the smallest overhead in this workload, if any peer ran."""
    peers = [by_mode[p] for p in PEERS if p in by_mode and by_mode[p].ok]
    return min(peers, key=lambda f: f.overhead_us) if peers else None


def verdicts(table: dict[str, dict[str, Figures]]) -> list[Verdict]:
    out: list[Verdict] = []
    for w, by_mode in table.items():
        obs = by_mode.get("obs-default")
        best = _best_peer(by_mode)
        if obs is None or not obs.ok:
            out.append(Verdict(workload=w, obs_overhead_us=None, best_peer=best.mode if best else None,
                               best_peer_overhead_us=best.overhead_us if best else None,
                               per_span_us=None, peer_target_met=None, span_target_met=None))
            continue
        per_span = obs.overhead_per_span_us
        out.append(Verdict(
            workload=w, obs_overhead_us=obs.overhead_us,
            best_peer=best.mode if best else None,
            best_peer_overhead_us=best.overhead_us if best else None, per_span_us=per_span,
            app_per_span_us=obs.app_overhead_per_span_us,
            peer_target_met=(obs.overhead_us <= PEER_FRACTION * max(best.overhead_us, 0.0))
            if best else None,
            span_target_met=(per_span <= MAX_US_PER_SPAN) if per_span is not None else None))
    return out


def floor(table: dict[str, dict[str, Figures]]) -> str:
    """Per workload: what a bare callback-to-span tracer costs on the shared pipeline, the room
    a third of the best peer leaves above it, and what obs spends above it."""
    lines = ["| workload | bare-spans overhead µs (spans/run) | ⅓ of best peer µs | room above "
             "the floor µs | obs-minimal above the floor µs | obs-default above the floor µs |",
             "|---|---:|---:|---:|---:|---:|"]
    for w, by_mode in table.items():
        bare = by_mode.get("bare-spans")
        if bare is None or not bare.ok:
            continue
        best = _best_peer(by_mode)
        third = PEER_FRACTION * best.overhead_us if best is not None else None
        cells = [f"{_us(bare.overhead_us)} ({bare.spans_per_run:.0f})", _us(third),
                 _us(third - bare.overhead_us) if third is not None else "–"]
        for m in ("obs-minimal", "obs-default"):
            f = by_mode.get(m)
            cells.append(_us(f.overhead_us - bare.overhead_us) if f and f.ok else "–")
        lines.append(f"| {w} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _us(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}"


def _yes(value: bool | None) -> str:
    return "n/a" if value is None else ("yes" if value else "**no**")


def headline(table: dict[str, dict[str, Figures]], modes: Sequence[str]) -> str:
    """Per workload: baseline time, then each mode's overhead µs (ratio to baseline)."""
    traced = [m for m in modes if m != "baseline"]
    lines = ["| workload | baseline CPU µs/run | " + " | ".join(f"{m} overhead µs (×)" for m in traced)
             + " |", "|---|---:|" + "---:|" * len(traced)]
    for w, by_mode in table.items():
        base = by_mode.get("baseline")
        cells = [_us(base.cpu_us) if base and base.ok else "n/a"]
        for m in traced:
            f = by_mode.get(m)
            cells.append(f"{_us(f.overhead_us)} (×{f.ratio:.2f})" if f and f.ok
                         else (f.status if f else "–"))
        lines.append(f"| {w} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def detail(table: dict[str, dict[str, Figures]]) -> str:
    lines = ["| workload | mode | rounds | CPU µs/run | overhead µs | × baseline | spans/run | "
             "overhead µs/span | app-threads overhead µs | app-threads µs/span | "
             "attribute bytes/run | wall µs/run (median) | notes |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for w, by_mode in table.items():
        for m, f in by_mode.items():
            if not f.ok:
                lines.append(f"| {w} | {m} | – | {f.status} | | | | | | | | | {f.reason} |")
                continue
            lines.append(
                f"| {w} | {m} | {f.rounds} | {_us(f.cpu_us)} | "
                f"{_us(f.overhead_us) if m != 'baseline' else '–'} | ×{f.ratio:.2f} | "
                f"{f.spans_per_run:.1f} | {_us(f.overhead_per_span_us)} | "
                f"{_us(f.app_overhead_us) if m != 'baseline' else '–'} | "
                f"{_us(f.app_overhead_per_span_us)} | "
                f"{f.attribute_bytes_per_run:,.0f} | {_us(f.wall_us)} | {'; '.join(f.notes)} |")
    return "\n".join(lines)


def app_threads(table: dict[str, dict[str, Figures]], modes: Sequence[str]) -> str:
    """Per workload: CPU overhead on the application's threads, and what the framework's
    callback machinery alone costs (the do-nothing handler), which every tracer pays."""
    traced = [m for m in modes if m != "baseline"]
    lines = ["| workload | " + " | ".join(f"{m} µs (µs/span)" for m in traced) + " |",
             "|---|" + "---:|" * len(traced)]
    for w, by_mode in table.items():
        cells = []
        for m in traced:
            f = by_mode.get(m)
            if f is None or not f.ok:
                cells.append(f.status if f else "–")
                continue
            per_span = f.app_overhead_per_span_us
            cells.append(_us(f.app_overhead_us)
                         + (f" ({_us(per_span)})" if per_span is not None else ""))
        lines.append(f"| {w} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def targets(items: Sequence[Verdict]) -> str:
    lines = ["| workload | obs-default overhead µs | best peer (overhead µs) | ≤ ⅓ of best peer | "
             "obs µs/span | ≤ 80 µs/span | met | obs µs/span on the app's threads |",
             "|---|---:|---|---|---:|---|---|---:|"]
    for v in items:
        peer = f"{v.best_peer} ({_us(v.best_peer_overhead_us)})" if v.best_peer else "n/a"
        lines.append(f"| {v.workload} | {_us(v.obs_overhead_us)} | {peer} | "
                     f"{_yes(v.peer_target_met)} | {_us(v.per_span_us)} | "
                     f"{_yes(v.span_target_met)} | {_yes(v.met)} | {_us(v.app_per_span_us)} |")
    return "\n".join(lines)


def rss(rows: Sequence[dict[str, Any]]) -> str:
    lines = ["| workload | mode | runs | RSS start MB | RSS end MB | slope, all KB/1k runs | "
             "least-squares slope, second half | Theil-Sen slope, second half | flat |",
             "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        if r["status"] != "ok":
            lines.append(f"| {r['workload']} | {r['mode']} | – | {r['status']} | | | | | "
                         f"{r.get('reason', '')} |")
            continue
        s = r["rss"]
        slope = s["slope_kb_per_1k_second_half"]
        robust = s.get("robust_slope_kb_per_1k_second_half", slope)
        lines.append(f"| {r['workload']} | {r['mode']} | {s['runs']:,} | {s['start_kb'] / 1024:.1f} | "
                     f"{s['end_kb'] / 1024:.1f} | {s['slope_kb_per_1k_all']:.1f} | {slope:.1f} | "
                     f"{robust:.1f} | {'yes' if abs(robust) <= FLAT_KB_PER_1K else '**no**'} |")
    return "\n".join(lines)


FLAT_KB_PER_1K = 16.0
"""Second-half growth below this (16 bytes a run) is allocator noise, not a leak."""


def profiles(rows: Sequence[dict[str, Any]]) -> str:
    parts: list[str] = []
    for r in rows:
        p = r.get("profile") or {}
        if r["status"] != "ok" or "obs_share" not in p:
            parts.append(f"### {r['workload']} ({r['mode']})\n\nnot profiled: "
                         f"{r.get('reason') or p.get('reason', 'unknown')}\n")
            continue
        parts.append(
            f"### {r['workload']} ({r['mode']}, {p['runs']} runs under pyinstrument)\n\n"
            f"obs code (and everything it calls) takes **{p['obs_share']:.0%}** of the profiled "
            f"run time ({_us(p['obs_us_per_run'])} of {_us(p['total_us_per_run'])} µs per run; "
            "absolute values are inflated by the profiler, the shares are what matter).\n")
        for title, key in (("Entry points (inclusive)", "entry_points"),
                           ("Where the time goes, by package (self time)", "packages"),
                           ("Hottest functions (self time)", "self_time")):
            parts.append(f"{title}:\n\n| function | µs/run | share of obs time |\n|---|---:|---:|")
            parts.extend(f"| `{name}` | {_us(us)} | {share:.0%} |" for name, us, share in p[key])
            parts.append("")
    return "\n".join(parts)


def workload_list(names: Iterable[str]) -> str:
    return "\n".join(f"- `{n}`: {WORKLOADS[n].description}" for n in names)
