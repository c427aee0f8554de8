"""How many payload records per second the stores take, written in batches as the writer does.

Run: ``python benchmarks/bench_payload_store.py [--records N] [--batch N] [--rounds N]
[--prefill N] [--dsn DSN]``. Prints one table: median records/s over rounds for SQLite (a fresh file per
round) and PostgreSQL (a schema of its own per round, dropped afterwards; skipped with the reason
when the server cannot be reached). Targets: 5,000 records/s into SQLite, 10,000 into PostgreSQL.
``--prefill N`` writes N records first, untimed: a store that has been capturing for a while
pays more per record than a fresh one (its random-key indexes no longer fit in the cache).

Records look like what capture stores for a model call: a system prompt, a user turn and a
retrieved context (about 1.5 KB of JSON), the answer, tokens, tags and a prompt hash.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path

from obs_core.payloads import (
    PayloadRecord,
    PayloadStore,
    PayloadStoreUnavailable,
    PostgresPayloadStore,
    SQLitePayloadStore,
)

TARGETS = {"sqlite": 5_000, "postgres": 10_000}
_CONTEXT = ("Returns are accepted within 30 days of delivery. Refunds above 250 EUR are reviewed"
            " by the finance team within 5 business days. ") * 6


def records(count: int) -> list[PayloadRecord]:
    now = datetime.now(timezone.utc)
    out: list[PayloadRecord] = []
    for i in range(count):
        trace = uuid.uuid4().hex
        out.append(PayloadRecord(
            trace_id=trace, span_id=trace[:16], parent_span_id=None, kind="llm",
            name="chat gpt-4o-mini", model="gpt-4o-mini", provider="openai",
            input_tokens=412, output_tokens=38, total_tokens=450, cost_usd=0.00009,
            timestamp=now, duration_ms=812.5, session_id=f"session-{i % 97}",
            user_cohort="beta", pipeline_version="rag-v3", prompt_hash=f"{i % 1000:064x}",
            input=[{"role": "system", "content": "You answer from the context only."},
                   {"role": "user", "content": f"Question {i}: how long do refunds take?"},
                   {"role": "user", "content": _CONTEXT}],
            output={"role": "assistant", "content": "Refunds take up to 5 business days."},
        ))
    return out


Round = Callable[[Sequence[PayloadRecord], int, Sequence[PayloadRecord]], float]
"""One round: (timed records, batch size, records written first, untimed) -> records/s."""


def _write_all(store: PayloadStore, batch: Sequence[PayloadRecord], size: int) -> None:
    for offset in range(0, len(batch), size):
        store.write(batch[offset:offset + size])


def _rate(store: PayloadStore, batch: Sequence[PayloadRecord], size: int) -> float:
    started = time.perf_counter()
    _write_all(store, batch, size)
    return len(batch) / (time.perf_counter() - started)


def sqlite_round(batch: Sequence[PayloadRecord], size: int,
                 prefill: Sequence[PayloadRecord]) -> float:
    with tempfile.TemporaryDirectory() as folder:
        store = SQLitePayloadStore(Path(folder) / "payloads.db")
        try:
            store.write(batch[:1])  # the schema is created on first use, outside the timing
            _write_all(store, prefill, size)
            return _rate(store, batch[1:], size)
        finally:
            store.close()


def postgres_round(dsn: str) -> Round:
    import psycopg

    def run(batch: Sequence[PayloadRecord], size: int, prefill: Sequence[PayloadRecord]) -> float:
        schema = f"obs_bench_{uuid.uuid4().hex[:12]}"
        store = PostgresPayloadStore(dsn, schema=schema, connect_timeout_s=2)
        try:
            store.write(batch[:1])
            _write_all(store, prefill, size)
            return _rate(store, batch[1:], size)
        finally:
            store.close()
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

    return run


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=256, help="records per write (the writer's)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--prefill", type=int, default=0,
                        help="records written first, untimed (a store already in use)")
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args(argv)

    batch = records(args.records + 1)
    prefill = records(args.prefill)
    rounds: dict[str, Round] = {"sqlite": sqlite_round, "postgres": postgres_round(args.dsn)}
    into = f", into a store holding {args.prefill:,}" if args.prefill else ""
    print(f"{args.records:,} records of ~1.5 KB, batches of {args.batch}, {args.rounds} rounds"
          f"{into}\n")
    print("| store | median records/s | rounds | target | met |")
    print("|---|---:|---|---:|---|")
    for name, run in rounds.items():
        try:
            rates = [run(batch, args.batch, prefill) for _ in range(args.rounds)]
        except (PayloadStoreUnavailable, OSError) as exc:  # reported, not fatal
            print(f"| {name} | n/a ({type(exc).__name__}: {str(exc)[:60]}) | | | |")
            continue
        median = statistics.median(rates)
        shown = ", ".join(f"{r:,.0f}" for r in rates)
        met = "yes" if median >= TARGETS[name] else "**no**"
        print(f"| {name} | {median:,.0f} | {shown} | {TARGETS[name]:,} | {met} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
