"""Stores that go away while the application runs: PostgreSQL stopped and started again behind a
TCP proxy (the real server stays up), a SQLite location that cannot be written, a disk that fills
up. The application is unaffected; payload records are buffered then written once, or dropped
and counted beyond the buffer; nothing unscrubbed is ever stored."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from opentelemetry.sdk.trace import TracerProvider

import obs_core
from core.payloads.payload_factories import PG_DSN, proxy_to_postgres
from obs_core.payloads import PayloadCapture, PostgresPayloadStore, Scrubber, SQLitePayloadStore
from obs_core.payloads._hashing import PromptHasher
from reliability._faults import median_ms, wait_until, within_noise

PLANTED_EMAIL = "outage.victim@example.org"


def _app_run(provider: TracerProvider, i: int) -> str:
    """An agent with one model call and one tool call, as the framework-free API records it."""
    with obs_core.agent_run("support", tracer_provider=provider) as agent:
        with obs_core.llm_call(model="gpt-4o-mini", provider="openai", tracer_provider=provider,
                               messages=[{"role": "user",
                                          "content": f"Run {i}: mail {PLANTED_EMAIL}"}]) as call:
            call.set_response(response_id=f"r{i}", output={"role": "assistant", "content": "ok"})
            call.set_usage(input_tokens=5, output_tokens=1)
        with obs_core.tool_call("notify", arguments={"to": PLANTED_EMAIL},
                                tracer_provider=provider) as tool:
            tool.set_result("sent")
        agent.finish(stop_reason="final_answer")
    return f"answer {i}"


def _capture(store: PostgresPayloadStore | SQLitePayloadStore, *, max_buffered: int = 10_000
             ) -> PayloadCapture:
    return PayloadCapture(store=store, hasher=PromptHasher(b"reliability-secret-0123456789"),
                          mode="redacted", scrubber=Scrubber(), ttl=None, flush_interval_s=0.02,
                          retry_initial_s=0.02, retry_max_s=0.2, max_buffered=max_buffered)


@pytest.fixture
def pg_schema() -> Iterator[str]:
    schema = f"obs_rel_{uuid.uuid4().hex[:12]}"
    yield schema
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _pg_rows(schema: str) -> list[tuple[str, str]]:
    with psycopg.connect(PG_DSN) as conn:
        return [(r[0], r[1]) for r in conn.execute(
            f'SELECT span_id, record::text FROM "{schema}".obs_payloads')]


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.lenient
def test_postgres_stopped_mid_run_is_invisible_to_the_app_and_loses_nothing(
        pg_schema: str) -> None:
    provider = TracerProvider()
    with proxy_to_postgres() as proxy:
        capture = _capture(PostgresPayloadStore(proxy.dsn(), schema=pg_schema,
                                                connect_timeout_s=0.3))
        obs_core.configure(tracer_provider=provider, trace_store=False, payload_store=False,
                           observers=[capture])
        try:
            counter = iter(range(10_000))
            healthy = median_ms(lambda: _app_run(provider, next(counter)), runs=20)
            assert capture.flush(10)
            proxy.stop()
            answers: list[str] = []
            down = median_ms(lambda: answers.append(_app_run(provider, next(counter))), runs=20)
            assert not capture.flush(0.3)
            assert wait_until(lambda: not capture.store_available)
            proxy.start()
            assert capture.flush(15)
            runs = next(counter)
        finally:
            obs_core.shutdown(timeout_s=5)
            capture.close()
    rows = _pg_rows(pg_schema)
    assert within_noise(down, healthy), (down, healthy)
    assert answers == [f"answer {i}" for i in range(25, 50)]  # 25 healthy runs came first
    assert len(rows) == 2 * runs  # a model and a tool record per run, every run
    assert len({span for span, _ in rows}) == len(rows)  # no duplicate
    assert not any(PLANTED_EMAIL in record for _, record in rows)
    assert obs_core.self_metrics()["dropped"] == {}


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.lenient
def test_postgres_outage_beyond_the_buffer_drops_and_counts_the_rest(pg_schema: str) -> None:
    provider = TracerProvider()
    with proxy_to_postgres() as proxy:
        proxy.stop()
        capture = _capture(PostgresPayloadStore(proxy.dsn(), schema=pg_schema,
                                                connect_timeout_s=0.3), max_buffered=6)
        obs_core.configure(tracer_provider=provider, trace_store=False, payload_store=False,
                           observers=[capture])
        try:
            for i in range(10):
                _app_run(provider, i)
                # one run at a time, so losses happen at the outage buffer, not the queue
                assert wait_until(lambda: obs_core.self_metrics()["gauges"]
                                  ["payload_queue_depth"] == 0)
            proxy.start()
            assert capture.flush(15)
        finally:
            obs_core.shutdown(timeout_s=5)
            capture.close()
    dropped = obs_core.self_metrics()["dropped"]
    assert len(_pg_rows(pg_schema)) == 6
    assert dropped == {"payload_store_unavailable": 20 - 6}


@pytest.mark.lenient
def test_a_payload_store_that_cannot_be_created_leaves_the_app_unaffected(
        tmp_path: Path, unconfigured: None) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the store's folder should be")
    provider = TracerProvider()
    obs_core.configure(tracer_provider=provider, trace_store=False,
                       payload_store=blocker / "payloads.db")
    answers = [_app_run(provider, i) for i in range(5)]
    assert answers == [f"answer {i}" for i in range(5)]
    blocker.unlink()  # the folder can now be created: the buffered records are written
    assert wait_until(lambda: obs_core.flush(timeout_s=1), timeout=10)
    obs_core.shutdown(timeout_s=5)
    store = SQLitePayloadStore(blocker / "payloads.db")
    try:
        records = store.search(limit=100)
    finally:
        store.close()
    assert len(records) == 10
    assert not any(PLANTED_EMAIL in r.model_dump_json() for r in records)


@pytest.mark.lenient
def test_flush_reports_payload_records_still_waiting_for_their_store(
        tmp_path: Path, unconfigured: None) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the store's folder should be")
    provider = TracerProvider()
    obs_core.configure(tracer_provider=provider, trace_store=False,
                       payload_store=blocker / "payloads.db")
    _app_run(provider, 0)
    try:
        assert obs_core.flush(timeout_s=0.5) is False
    finally:
        blocker.unlink()  # lets shutdown finish at once


DISK_FULL_APP = textwrap.dedent("""
    import json, resource, signal, sys
    import obs_core

    obs_core.configure()
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))
    answers = []
    for i in range(120):
        with obs_core.agent_run("disk-full", inputs="x" * 2000) as agent:
            with obs_core.tool_call("write", arguments="y" * 2000) as tool:
                tool.set_result("z" * 2000)
            agent.finish(stop_reason="final_answer")
        answers.append(i)
    obs_core.flush(timeout_s=2)
    print(json.dumps({"answers": len(answers), "metrics": obs_core.self_metrics()}))
""")


@pytest.mark.slow
def test_a_full_disk_under_the_sqlite_stores_never_reaches_the_app(tmp_path: Path) -> None:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", DISK_FULL_APP], capture_output=True, text=True,
                          timeout=120, check=False,
                          env={"PATH": "/usr/bin:/bin", "OBS_DATA_DIR": str(tmp_path),
                               "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr[-2000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["answers"] == 120
    dropped = outcome["metrics"]["dropped"]
    assert dropped.get("export_failed.store", 0) > 0, outcome
    assert time.perf_counter() - started < 60
