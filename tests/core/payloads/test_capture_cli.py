"""``obs payloads TRACE_ID`` and ``obs purge`` against real stores."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from core.payloads.payload_factories import (
    PG_DSN,
    PLANTED_EMAIL,
    T0_NS,
    chat,
    days_ago,
    make_capture,
    make_record,
    make_run,
    trace_id,
)
from obs_core.cli import main
from obs_core.payloads import PostgresPayloadStore, SQLitePayloadStore
from obs_core.payloads.record import TRUNCATED_KEY
from obs_core.spans import RetrievedDocument, SpanKind, SpanRecord, TokenUsage
from obs_core.store import SQLiteTraceStore


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "payloads.db"


@pytest.fixture
def captured_trace(db: Path) -> str:
    """One trace with a model call, a tool call and a retrieval, captured redacted."""
    store = SQLitePayloadStore(db)
    capture = make_capture(store)
    tid = trace_id()
    capture.on_run_end(make_run(SpanKind.LLM, trace=tid, start_ns=T0_NS,
                                inputs=chat(f"Email me at {PLANTED_EMAIL}\nthanks"),
                                outputs={"role": "assistant", "content": "Will do."},
                                usage=TokenUsage(input_tokens=20, output_tokens=3)))
    capture.on_run_end(make_run(SpanKind.TOOL, name="lookup", trace=tid, start_ns=T0_NS + 1000,
                                inputs={"id": 7}, outputs="found", model=None))
    capture.on_run_end(make_run(SpanKind.RETRIEVER, name="kb", trace=tid, start_ns=T0_NS + 2000,
                                inputs="refunds", model=None, documents=[
                                    RetrievedDocument(id="faq-3", score=0.8, content="30 days")]))
    assert capture.flush(5)
    capture.close()
    return tid


def test_payloads_prints_every_record_of_the_trace_readably(
        db: Path, captured_trace: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["payloads", captured_trace, "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert out.index("llm") < out.index("lookup") < out.index("kb")
    assert "user: Email me at" in out
    assert "  thanks" in out  # continuation line of a multi-line message
    assert "assistant: Will do." in out
    assert "tokens 20 in / 3 out" in out
    assert "document 1 faq-3 (score 0.800)" in out
    assert "30 days" in out
    assert "session session-1" in out
    assert "pipeline v7" in out
    assert PLANTED_EMAIL not in out


def test_payloads_json_is_the_stored_records(
        db: Path, captured_trace: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["payloads", captured_trace, "--db", str(db), "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["kind"] for r in records] == ["llm", "tool", "retriever"]
    assert records[1]["input"] == {"id": 7}
    assert all(r["trace_id"] == captured_trace for r in records)


def test_payloads_reads_the_store_named_by_the_environment(
        db: Path, captured_trace: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OBS_PAYLOAD_STORE", str(db))
    assert main(["payloads", captured_trace, "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 3


def test_payloads_shows_truncated_values_with_their_size(
        db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record = make_record(output={TRUNCATED_KEY: {"original_bytes": 90000, "preview": "abc"}})
    store = SQLitePayloadStore(db)
    store.write([record])
    store.close()
    assert main(["payloads", record.trace_id, "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "[truncated, originally 90000 bytes]" in out
    assert "abc" in out


def test_payloads_of_an_unknown_trace_is_an_error(
        db: Path, captured_trace: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["payloads", "f" * 32, "--db", str(db)]) == 1
    assert "no payloads stored for trace" in capsys.readouterr().err


def test_payloads_with_a_missing_database_says_where_it_looked(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere.db"
    assert main(["payloads", "a" * 32, "--db", str(missing)]) == 1
    assert str(missing) in capsys.readouterr().err
    assert not missing.exists()


def test_payloads_escapes_terminal_control_characters(
        db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record = make_record(output="\x1b[2Jcleared?")
    store = SQLitePayloadStore(db)
    store.write([record])
    store.close()
    assert main(["payloads", record.trace_id, "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "\x1b[2J" not in out
    assert "\\x1b[2Jcleared?" in out


def _trace_store_with(path: Path, *, ended_days_ago: list[float]) -> None:
    store = SQLiteTraceStore(path)
    for age in ended_days_ago:
        end_ns = int(days_ago(age).timestamp() * 1e9)
        store.write([SpanRecord(trace_id=trace_id(), span_id="00000000000000a1", name="root",
                                kind="chain", start_time_ns=end_ns - 1000, end_time_ns=end_ns)])
    store.close()


def test_purge_deletes_old_payloads_and_old_traces(
        tmp_path: Path, db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = SQLitePayloadStore(db)
    fresh = make_record(timestamp=days_ago(2))
    store.write([make_record(timestamp=days_ago(40)), make_record(timestamp=days_ago(31)), fresh])
    store.close()
    traces = tmp_path / "traces.db"
    _trace_store_with(traces, ended_days_ago=[45, 1])

    assert main(["purge", "--payload-db", str(db), "--db", str(traces)]) == 0

    out = capsys.readouterr().out
    assert "payloads: deleted 2 records" in out
    assert "traces: deleted 1 traces" in out
    store = SQLitePayloadStore(db)
    assert store.search(limit=10) == [fresh]
    store.close()
    remaining = SQLiteTraceStore(traces)
    assert remaining.count_traces() == 1
    remaining.close()


def test_purge_honours_an_explicit_age_and_payloads_only(
        tmp_path: Path, db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = SQLitePayloadStore(db)
    store.write([make_record(timestamp=days_ago(3)), make_record(timestamp=days_ago(1))])
    store.close()
    traces = tmp_path / "traces.db"
    _trace_store_with(traces, ended_days_ago=[45])

    assert main(["purge", "--older-than", "2d", "--payload-db", str(db), "--db", str(traces),
                 "--payloads-only"]) == 0

    assert "payloads: deleted 1 records" in capsys.readouterr().out
    remaining = SQLiteTraceStore(traces)
    assert remaining.count_traces() == 1
    remaining.close()


def test_purge_takes_the_ttl_from_the_environment(
        tmp_path: Path, db: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    store = SQLitePayloadStore(db)
    store.write([make_record(timestamp=days_ago(8)), make_record(timestamp=days_ago(6))])
    store.close()
    monkeypatch.setenv("OBS_PAYLOAD_TTL_DAYS", "7")
    assert main(["purge", "--payload-db", str(db), "--db", str(tmp_path / "none.db")]) == 0
    out = capsys.readouterr().out
    assert "payloads: deleted 1 records" in out
    assert "traces: no store at" in out


@pytest.fixture
def pg_schema() -> Iterator[str]:
    schema = f"obs_test_{uuid.uuid4().hex[:12]}"
    yield schema
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.mark.postgres
def test_payloads_and_purge_work_against_postgres(
        pg_schema: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = PostgresPayloadStore(PG_DSN, schema=pg_schema)
    tid = trace_id()
    store.write([make_record(trace=tid, timestamp=days_ago(40)),
                 make_record(trace=tid, timestamp=days_ago(1), output="still here")])
    store.close()
    pg = ["--dsn", PG_DSN, "--pg-schema", pg_schema]

    assert main(["payloads", tid, *pg, "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2
    assert main(["purge", *pg, "--payloads-only"]) == 0
    assert "dropped 1 daily partitions" in capsys.readouterr().out
    assert main(["payloads", tid, *pg]) == 0
    assert "still here" in capsys.readouterr().out


@pytest.mark.postgres
def test_a_postgres_error_never_prints_the_password(
        capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dsn = f"postgresql://postgres:Hunter2-Secret@127.0.0.1:{port}/test?connect_timeout=1"
    assert main(["payloads", "a" * 32, "--dsn", dsn]) == 1
    captured = capsys.readouterr()
    assert "Hunter2-Secret" not in captured.err + captured.out
    assert "127.0.0.1" in captured.err
