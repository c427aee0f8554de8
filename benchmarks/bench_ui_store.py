"""How fast `obs ui` answers over a large embedded store: 100,000 traces by default.

Run: ``python benchmarks/bench_ui_store.py [--traces N] [--repeats N] [--db PATH]``. Fills a
fresh SQLite trace store (through the store's own write path, in batches as the exporter
writes) with agent traces spread over 30 days — a root agent span, two model calls and a tool
call each, with models, sessions, pipeline versions, errors and limit hits varied — then starts
the viewer's HTTP server on 127.0.0.1 and times the requests the pages make: the default trace
list, each filter and sort, a deep page, one trace's detail, and the 14- and 30-day overview.
Prints the median and the slowest of ``--repeats`` requests per query, in milliseconds, end to
end over HTTP (server-side query, JSON encoding and the socket). The target is "well under a
second" per page.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from obs_core import semconv as sc
from obs_core.spans import SpanKind, SpanRecord
from obs_core.store import SQLiteTraceStore
from obs_core.ui import serve

_DAY_NS = 86_400 * 10**9
_MODELS = ("gpt-4o-mini", "gpt-4o", "claude-sonnet-4", "llama-3.1-70b")
_BATCH = 2_000


def _trace(i: int, now_ns: int, days: int) -> list[SpanRecord]:
    trace_id = f"{i + 1:032x}"
    start = now_ns - (i * 2_654_435_761 % (days * _DAY_NS // 10**6)) * 10**6
    model = _MODELS[i % len(_MODELS)]
    failed = i % 37 == 0
    limit_hit = i % 53 == 0
    steps = 10 if limit_hit else 3
    common = {
        sc.GEN_AI_CONVERSATION_ID: f"session-{i % 5_000}",
        sc.OBS_PIPELINE_VERSION: f"v{i % 7}",
    }
    root = SpanRecord(
        trace_id=trace_id, span_id=f"{1:016x}", name="invoke_agent support",
        kind=SpanKind.AGENT.value, start_time_ns=start,
        end_time_ns=start + (200 + i % 4_000) * 10**6,
        status="ERROR" if failed or limit_hit else "OK",
        attributes={**common, sc.OBS_SPAN_KIND: "agent", sc.OBS_ROOT: True,
                    sc.OBS_AGENT_STEP_COUNT: steps, sc.OBS_AGENT_STEP_LIMIT: 10,
                    sc.OBS_AGENT_MAX_ITERATIONS_REACHED: limit_hit},
    )
    spans = [root]
    spans.extend(SpanRecord(
        trace_id=trace_id, span_id=f"{n:016x}", parent_span_id=root.span_id,
        name=f"chat {model}", kind=SpanKind.LLM.value, start_time_ns=start + n * 10**6,
        end_time_ns=start + (n + 150) * 10**6, status="OK",
        attributes={**common, sc.OBS_SPAN_KIND: "llm", sc.GEN_AI_REQUEST_MODEL: model,
                    sc.GEN_AI_USAGE_INPUT_TOKENS: 400 + i % 900,
                    sc.GEN_AI_USAGE_OUTPUT_TOKENS: 50 + i % 300,
                    sc.OBS_USAGE_COST_USD: 0.0001 * (1 + i % 50)},
    ) for n in (2, 3))
    spans.append(SpanRecord(
        trace_id=trace_id, span_id=f"{4:016x}", parent_span_id=root.span_id,
        name="execute_tool lookup_order", kind=SpanKind.TOOL.value,
        start_time_ns=start + 160 * 10**6, end_time_ns=start + 170 * 10**6,
        status="ERROR" if failed else "OK",
        attributes={**common, sc.OBS_SPAN_KIND: "tool", sc.GEN_AI_TOOL_NAME: "lookup_order"},
    ))
    return spans


def _batches(traces: int, now_ns: int, days: int) -> Iterator[list[SpanRecord]]:
    batch: list[SpanRecord] = []
    for i in range(traces):
        batch.extend(_trace(i, now_ns, days))
        if len(batch) >= _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def fill(db: Path, traces: int, *, days: int = 30) -> float:
    """Write ``traces`` traces; seconds it took."""
    now_ns = time.time_ns()
    began = time.perf_counter()
    with SQLiteTraceStore(db) as store:
        for batch in _batches(traces, now_ns, days):
            store.write(batch)
    return time.perf_counter() - began


def _get(url: str) -> tuple[float, object]:
    began = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as response:
        body = json.loads(response.read())
    return (time.perf_counter() - began) * 1000.0, body


QUERIES: tuple[tuple[str, str], ...] = (
    ("trace list, newest first (page 1)", "/api/traces"),
    ("status = error", "/api/traces?status=error"),
    ("model = gpt-4o", "/api/traces?model=gpt-4o"),
    ("one session", "/api/traces?session=session-1234"),
    ("pipeline version v3", "/api/traces?pipeline_version=v3"),
    ("agent hit its limit", "/api/traces?limit_hit=1"),
    ("hallucination flagged", "/api/traces?hallucination=1"),
    ("root name contains 'support'", "/api/traces?name=support"),
    ("sorted by duration", "/api/traces?sort=duration"),
    ("sorted by tokens", "/api/traces?sort=tokens"),
    ("sorted by cost, ascending", "/api/traces?sort=cost&order=asc"),
    ("page 1,000 (offset 50,000)", "/api/traces?offset=50000"),
    ("one trace's page", "/api/traces/{trace_id}"),
    ("overview, 14 days", "/api/overview"),
    ("overview, 30 days", "/api/overview?days=30"),
)


def measure(db: Path, repeats: int) -> list[tuple[str, float, float, int]]:
    """(query, median ms, slowest ms, items returned) per query."""
    server = serve(db)
    server.start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        _, first = _get(base + "/api/traces")
        trace_id = first["traces"][0]["trace_id"]  # type: ignore[index]
        rows = []
        for label, path in QUERIES:
            url = base + path.format(trace_id=trace_id)
            times = []
            body: object = None
            for _ in range(repeats):
                ms, body = _get(url)
                times.append(ms)
            rows.append((label, statistics.median(times), max(times), _count(body)))
        return rows
    finally:
        server.close()


def _count(body: object) -> int:
    if isinstance(body, dict):
        for key in ("traces", "spans", "days"):
            value = body.get(key)
            if isinstance(value, list):
                return len(value)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--db", type=Path, help="keep the store here (default: a temporary file)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "traces.db"
        seconds = fill(db, args.traces)
        size_mb = db.stat().st_size / 1e6
        print(f"{args.traces:,} traces ({args.traces * 4:,} spans) written in {seconds:.1f} s; "
              f"store {size_mb:.0f} MB")
        rows = measure(db, args.repeats)
    print()
    print("| query | median ms | slowest ms | items |")
    print("|---|---:|---:|---:|")
    for label, median, slowest, items in rows:
        print(f"| {label} | {median:.1f} | {slowest:.1f} | {items} |")
    worst = max(r[2] for r in rows)
    print(f"\nslowest request: {worst:.0f} ms")
    return 0 if worst < 1000 else 1


if __name__ == "__main__":
    sys.exit(main())
