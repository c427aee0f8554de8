"""The PostgreSQL payload store: daily partitions dropped whole by the TTL, idempotent inserts,
and a DSN password that never shows up anywhere."""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest

from core.payloads.payload_factories import PG_DSN, days_ago, make_record, trace_id
from obs_core.payloads import PayloadStoreUnavailable, PostgresPayloadStore

pytestmark = pytest.mark.postgres


@pytest.fixture
def schema() -> Iterator[str]:
    name = f"obs_test_{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.fixture
def store(schema: str) -> Iterator[PostgresPayloadStore]:
    s = PostgresPayloadStore(PG_DSN, schema=schema, connect_timeout_s=2)
    yield s
    s.close()


def _partitions(schema: str) -> list[str]:
    with psycopg.connect(PG_DSN) as conn:
        rows = conn.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r' "
            "ORDER BY 1",
            (schema,),
        ).fetchall()
    return [r[0] for r in rows]


def _row_count(schema: str) -> int:
    with psycopg.connect(PG_DSN) as conn:
        row = conn.execute(f'SELECT count(*) FROM "{schema}".obs_payloads').fetchone()
    assert row is not None
    return int(row[0])


def test_records_of_a_trace_come_back_in_start_order(store: PostgresPayloadStore) -> None:
    tid = trace_id()
    second = make_record(trace=tid, timestamp=days_ago(0.1), name="second")
    first = make_record(trace=tid, timestamp=days_ago(0.2), name="first")
    store.write([second, make_record(), first])
    assert store.get_trace(tid) == [first, second]


def test_writing_a_record_twice_stores_it_once(store: PostgresPayloadStore, schema: str) -> None:
    record = make_record()
    assert store.write([record]) == 1
    assert store.write([record, make_record()]) == 1
    assert _row_count(schema) == 2


def test_each_utc_day_gets_its_own_partition(store: PostgresPayloadStore, schema: str) -> None:
    store.write([make_record(timestamp=days_ago(d)) for d in (0, 1, 2)])
    assert len(_partitions(schema)) == 3


def test_purge_drops_expired_days_whole_and_trims_the_boundary_day(
        store: PostgresPayloadStore, schema: str) -> None:
    cutoff = days_ago(30).replace(hour=12, minute=0, second=0, microsecond=0)
    expired_same_day = make_record(timestamp=cutoff - timedelta(hours=6))
    kept_same_day = make_record(timestamp=cutoff + timedelta(hours=6))
    old = [make_record(timestamp=days_ago(d)) for d in (45, 40, 32)]
    fresh = make_record(timestamp=days_ago(1))
    store.write([*old, expired_same_day, kept_same_day, fresh])

    result = store.purge(older_than=cutoff)

    assert len(result.dropped_partitions) == 3
    assert result.deleted_rows == 1
    remaining = {r.span_id for r in store.search(limit=10)}
    assert remaining == {kept_same_day.span_id, fresh.span_id}
    assert len(_partitions(schema)) == 2


def test_a_day_purged_by_someone_else_is_recreated_on_the_next_write(
        store: PostgresPayloadStore, schema: str) -> None:
    store.write([make_record(timestamp=days_ago(40))])
    other = PostgresPayloadStore(PG_DSN, schema=schema)
    other.purge(older_than=days_ago(30))
    other.close()
    late = make_record(timestamp=days_ago(40))
    assert store.write([late]) == 1
    assert store.get_trace(late.trace_id) == [late]


def test_search_filters_by_session_pipeline_version_and_prompt_hash(
        store: PostgresPayloadStore) -> None:
    a = make_record(session_id="a", pipeline_version="v1", prompt_hash="h1")
    b = make_record(session_id="b", pipeline_version="v2", prompt_hash="h1")
    store.write([a, b])
    assert store.search(session_id="a") == [a]
    assert store.search(pipeline_version="v2") == [b]
    assert {r.span_id for r in store.search(prompt_hash="h1")} == {a.span_id, b.span_id}
    assert store.search(since=days_ago(-1)) == []


def test_trace_time_session_and_pipeline_lookups_are_indexed(
        store: PostgresPayloadStore, schema: str) -> None:
    store.write([make_record()])
    with psycopg.connect(PG_DSN) as conn:
        rows = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND tablename = 'obs_payloads'",
            (schema,),
        ).fetchall()
    definitions = " ".join(r[0] for r in rows)
    for columns in ("(trace_id, span_id, start_time)", "(start_time)",
                    "(session_id, start_time)", "(pipeline_version, start_time)"):
        assert columns in definitions


def test_an_unreachable_server_raises_unavailable_without_the_password(
        schema: str, caplog: pytest.LogCaptureFixture) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    dsn = f"postgresql://postgres:Sup3r-S3cret@127.0.0.1:{closed_port}/test"
    store = PostgresPayloadStore(dsn, schema=schema, connect_timeout_s=0.5)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(PayloadStoreUnavailable) as raised:
        store.write([make_record()])
    store.close()
    assert "Sup3r-S3cret" not in str(raised.value)
    assert "Sup3r-S3cret" not in caplog.text
    assert "Sup3r-S3cret" not in repr(store)
    assert "127.0.0.1" in repr(store)


def test_missing_psycopg_names_the_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(ImportError, match=r"obs-core\[postgres\]"):
        PostgresPayloadStore(PG_DSN)


def test_identifiers_that_are_not_plain_names_are_refused() -> None:
    with pytest.raises(ValueError, match="schema"):
        PostgresPayloadStore(PG_DSN, schema='x"; DROP TABLE y; --')


@pytest.mark.parametrize("dsn", [
    "postgresql://obs:pa%40ss-Word9@db.internal:5432/app",
    "postgres://obs@db.internal/app?password=pa%40ss-Word9&sslmode=require",
    "host=db.internal dbname=app user=obs password=pa@ss-Word9",
    "host=db.internal password='pa@ss-Word9' dbname=app",
])
def test_every_dsn_form_has_its_password_masked_in_repr(dsn: str) -> None:
    shown = repr(PostgresPayloadStore(dsn))
    assert "pa@ss-Word9" not in shown
    assert "pa%40ss-Word9" not in shown
    assert "db.internal" in shown
    assert "***" in shown
