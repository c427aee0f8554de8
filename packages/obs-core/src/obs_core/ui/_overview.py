"""What the overview page charts: per day tokens, cost, traces, errors, agent limit hits,
latency percentiles and the hallucination rate, plus the same over the whole window.

The store has no aggregate queries, so this reads the file read-only itself. Percentiles are
nearest-rank (always an observed duration, never an interpolation). One window-function query
ranks the durations over the whole window and within each day and returns only the rows at the
wanted ranks, so 100,000 traces are sorted inside SQLite rather than loaded into Python.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any, Final

from obs_core.ui._params import ApiError, int_param
from obs_core.ui._sql import marks, read_only

_NS_PER_MS: Final = 1_000_000
_NS_PER_DAY: Final = 86_400 * 1_000_000_000
PERCENTILES: Final = (("p50", 50), ("p95", 95), ("p99", 99))

_PER_DAY_SQL: Final = """
SELECT CAST(start_time_ns / ? AS INTEGER) AS day, COUNT(*), SUM(total_tokens), TOTAL(cost_usd),
       SUM(status = 'ERROR'), SUM(agent_limit_hit)
FROM traces WHERE start_time_ns >= ? AND start_time_ns < ? AND root_kind IS NOT 'evaluation'
GROUP BY day ORDER BY day
"""

# Rank r of n sorted values is the p-th percentile when r = ceil(p * n / 100), which integer
# arithmetic spells (p * n + 99) / 100.
_PERCENTILES_SQL: Final = """
WITH windowed AS (
    SELECT CAST(start_time_ns / ? AS INTEGER) AS day, duration_ns
    FROM traces WHERE start_time_ns >= ? AND start_time_ns < ? AND root_kind IS NOT 'evaluation'
), ranked AS (
    SELECT day, duration_ns,
           ROW_NUMBER() OVER (PARTITION BY day ORDER BY duration_ns) AS day_rank,
           COUNT(*) OVER (PARTITION BY day) AS day_n,
           ROW_NUMBER() OVER (ORDER BY duration_ns) AS rank,
           COUNT(*) OVER () AS n
    FROM windowed
)
SELECT day, day_n, day_rank, n, rank, duration_ns FROM ranked
WHERE day_rank IN ((50 * day_n + 99) / 100, (95 * day_n + 99) / 100, (99 * day_n + 99) / 100)
   OR rank IN ((50 * n + 99) / 100, (95 * n + 99) / 100, (99 * n + 99) / 100)
"""

# A trace is checked when a hallucination evaluator scored it, flagged when one failed it;
# it counts on the day the trace started, like every other series.
_DAILY_HALLUCINATIONS_SQL: Final = """
SELECT CAST(t.start_time_ns / ? AS INTEGER) AS day, COUNT(DISTINCT e.trace_id),
       COUNT(DISTINCT CASE WHEN e.passed = 0 THEN e.trace_id END)
FROM evaluations AS e JOIN traces AS t ON t.trace_id = e.trace_id
WHERE e.evaluator IN ({names}) AND e.passed IS NOT NULL
  AND t.start_time_ns >= ? AND t.start_time_ns < ?
GROUP BY day
"""


def overview(db_path: Path, *, since_ns: int, until_ns: int,
             hallucination_evaluators: Collection[str] = ()) -> dict[str, Any]:
    """Totals over ``[since_ns, until_ns)`` and one entry per day that has traces."""
    if until_ns <= since_ns:
        raise ApiError("until must be after since")
    window = (since_ns, until_ns)
    names = sorted(hallucination_evaluators)
    with read_only(db_path) as conn:
        days = conn.execute(_PER_DAY_SQL, (_NS_PER_DAY, *window)).fetchall()
        total = sum(int(row[1]) for row in days)
        latency, daily_latency = _latencies(
            conn.execute(_PERCENTILES_SQL, (_NS_PER_DAY, *window)).fetchall())
        checks = {int(row[0]): (int(row[1]), int(row[2])) for row in conn.execute(
            _DAILY_HALLUCINATIONS_SQL.format(names=marks(names)), (_NS_PER_DAY, *names, *window)
        ).fetchall()} if names else {}
    errors = sum(int(row[4] or 0) for row in days)
    checked = sum(c for c, _ in checks.values())
    flagged = sum(f for _, f in checks.values())
    return {
        "since_ms": since_ns / _NS_PER_MS,
        "until_ms": until_ns / _NS_PER_MS,
        "trace_count": total,
        "error_count": errors,
        "error_rate": errors / total if total else 0.0,
        "agent_limit_hits": sum(int(row[5] or 0) for row in days),
        "hallucination_checked": checked,
        "hallucination_flagged": flagged,
        "hallucination_rate": flagged / checked if checked else None,
        "latency_ms": latency,
        "days": [_day(row, daily_latency.get(int(row[0]), {}), checks.get(int(row[0])))
                 for row in days],
    }


def _day(row: tuple[Any, ...], latency: Mapping[str, float],
         checks: tuple[int, int] | None) -> dict[str, Any]:
    traces, errors = int(row[1]), int(row[4] or 0)
    checked, flagged = checks or (0, 0)
    return {
        "day_ms": int(row[0]) * _NS_PER_DAY // _NS_PER_MS,
        "traces": traces,
        "tokens": int(row[2] or 0),
        "cost_usd": float(row[3] or 0.0),
        "errors": errors,
        "error_rate": errors / traces if traces else 0.0,
        "agent_limit_hits": int(row[5] or 0),
        "latency_ms": {name: latency.get(name) for name, _ in PERCENTILES},
        "hallucination_checked": checked,
        "hallucination_flagged": flagged,
        "hallucination_rate": flagged / checked if checked else None,
    }


def _latencies(rows: list[tuple[Any, ...]]
               ) -> tuple[dict[str, float | None], dict[int, dict[str, float]]]:
    """The window's percentiles and each day's, from the rows at the wanted ranks."""
    overall: dict[str, float | None] = {name: None for name, _ in PERCENTILES}
    by_day: dict[int, dict[str, float]] = {}
    for day, day_n, day_rank, n, rank, duration_ns in rows:
        ms = int(duration_ns) / _NS_PER_MS
        for name, p in PERCENTILES:
            if rank == _nearest_rank(p, int(n)):
                overall[name] = ms
            if day_rank == _nearest_rank(p, int(day_n)):
                by_day.setdefault(int(day), {})[name] = ms
    return overall, by_day


def overview_window(query: Mapping[str, str], *, now_ns: int) -> tuple[int, int]:
    """``since_ms``/``until_ms`` if given, else the last ``days`` days (default 14)."""
    days = int_param(query, "days", minimum=1, maximum=366) or 14
    until_ms = int_param(query, "until_ms", minimum=0)
    since_ms = int_param(query, "since_ms", minimum=0)
    until_ns = now_ns + 1 if until_ms is None else until_ms * _NS_PER_MS
    since_ns = until_ns - days * _NS_PER_DAY if since_ms is None else since_ms * _NS_PER_MS
    return since_ns, until_ns


def _nearest_rank(p: int, count: int) -> int:
    """The 1-based rank of the ``p``-th percentile among ``count`` sorted values."""
    return min(count, max(1, (p * count + 99) // 100))
