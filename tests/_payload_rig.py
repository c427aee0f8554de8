"""obs configured for payload capture into a real store, for the framework integration tests.

``payload_rig`` configures obs the way an application does (``obs_core.configure()``), with spans
going to an in-memory :class:`~obs_core.testing.SpanCapture` and payloads going to SQLite (a temp
file, through ``configure(payload_store=...)``) or to the machine's PostgreSQL (an isolated
schema, through a capture built from :class:`~obs_core.payloads.PayloadSettings`, the same
factory ``configure()`` uses). Reads go through a second, independent store connection.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import psycopg
from opentelemetry.sdk.trace import ReadableSpan

import obs_core
from core.payloads.payload_factories import PG_DSN
from obs_core import semconv as sc
from obs_core.payloads import (
    CaptureMode,
    PayloadCapture,
    PayloadRecord,
    PayloadSettings,
    PayloadStore,
    PostgresPayloadStore,
    Scrubber,
    SQLitePayloadStore,
    build_capture,
)
from obs_core.testing import ScriptedOpenAIServer, SpanCapture

StoreKind = Literal["sqlite", "postgres"]
SECRET = "payload-rig-secret-0123456789"
OTHER_SECRET = "another-installation-secret-9876543210"


@dataclass(kw_only=True)
class PayloadRig:
    """One configured obs: where spans and payloads of the test went."""

    kind: StoreKind
    spans: SpanCapture
    reader: PayloadStore
    sqlite_path: Path | None = None
    schema: str | None = None
    capture: PayloadCapture | None = None
    """The capture built here for PostgreSQL (``configure()`` owns the SQLite one)."""

    def flush(self) -> None:
        assert obs_core.flush(timeout_s=20)
        if self.capture is not None:
            assert self.capture.flush(20)

    def records(self) -> list[PayloadRecord]:
        """Every stored record, oldest first (after a flush); none when nothing was stored."""
        self.flush()
        if self.sqlite_path is not None and not self.sqlite_path.exists():
            return []
        if self.schema is not None and not _pg_table_exists(self.schema):
            return []
        return sorted(self.reader.search(limit=10_000), key=lambda r: (r.timestamp, r.span_id))

    def by_span(self) -> dict[tuple[str, str], PayloadRecord]:
        return {(r.trace_id, r.span_id): r for r in self.records()}

    def tags_by_trace(self) -> list[set[tuple[str | None, str | None, str | None]]]:
        """Per trace, the distinct ``(session_id, user_cohort, pipeline_version)`` of its
        records, in a stable order: one tuple per trace means the tags covered the whole run."""
        tags: dict[str, set[tuple[str | None, str | None, str | None]]] = {}
        for record in self.records():
            tags.setdefault(record.trace_id, set()).add(
                (record.session_id, record.user_cohort, record.pipeline_version))
        return sorted(tags.values(), key=str)

    def first_prompt_hashes(self) -> list[str | None]:
        """The prompt hash of each trace's first model call, traces in the order they ran."""
        first_calls: dict[str, PayloadRecord] = {}
        for record in self.records():
            if record.kind == "llm":
                first_calls.setdefault(record.trace_id, record)
        return [r.prompt_hash for r in first_calls.values()]

    def stored_bytes(self) -> str:
        """Everything the store holds, as text: the SQLite file, or the table dumped as JSON."""
        self.flush()
        if self.sqlite_path is not None:
            files = list(self.sqlite_path.parent.glob(self.sqlite_path.name + "*"))
            return b"\n".join(p.read_bytes() for p in files).decode("utf-8", "replace")
        assert self.schema is not None
        if not _pg_table_exists(self.schema):
            return ""
        with psycopg.connect(PG_DSN) as conn:
            rows = conn.execute(
                f'SELECT row_to_json(t)::text FROM "{self.schema}".obs_payloads t').fetchall()
        return "\n".join(str(r[0]) for r in rows)


def assert_keyed_hashes(same: str | None, repeated: str | None, other: str | None,
                        with_other_secret: str | None) -> None:
    """The same prompt hashes alike, another prompt differently, and another installation's
    secret gives the same prompt another hash (so a hash cannot be matched across installations
    or reversed by hashing guesses without the secret)."""
    assert same is not None
    assert same == repeated
    assert other != same
    assert with_other_secret != same


def assert_one_record_per_span(records: dict[tuple[str, str], PayloadRecord],
                               spans: Sequence[ReadableSpan], capture: SpanCapture) -> None:
    """Every captured span has exactly one record, keyed by its ids, of its kind and naming the
    exported parent, and the run is one trace."""
    assert set(records) == {span_key(s) for s in spans}
    assert len({trace for trace, _ in records}) == 1
    for span in spans:
        record = records[span_key(span)]
        parent = capture.parent(span)
        assert record.kind == (span.attributes or {})[sc.OBS_SPAN_KIND]
        assert record.parent_span_id == (span_key(parent)[1] if parent is not None else None)


def assert_server_token_counts(records: Sequence[PayloadRecord], spans: Sequence[ReadableSpan],
                               server: ScriptedOpenAIServer) -> None:
    """Each model record holds the model and exactly the usage the server reported for the
    response its span names."""
    reported = {u.response_id: u for u in server.usage_log}
    for record, span in zip(records, spans, strict=True):
        usage = reported[str((span.attributes or {})[sc.GEN_AI_RESPONSE_ID])]
        assert record.model == "gpt-4o-mini"
        assert (record.input_tokens, record.output_tokens, record.total_tokens) == (
            usage.prompt_tokens, usage.completion_tokens, usage.total_tokens)


def span_key(span: ReadableSpan) -> tuple[str, str]:
    """How a payload record names its span: ``(trace id, span id)`` in hex."""
    return f"{span.context.trace_id:032x}", f"{span.context.span_id:016x}"


def spans_of_kinds(spans: SpanCapture, kinds: Sequence[str]) -> list[ReadableSpan]:
    return [s for s in spans.spans if (s.attributes or {}).get(sc.OBS_SPAN_KIND) in kinds]


def _pg_table_exists(schema: str) -> bool:
    with psycopg.connect(PG_DSN) as conn:
        row = conn.execute("SELECT to_regclass(%s)", (f'"{schema}".obs_payloads',)).fetchone()
    return row is not None and row[0] is not None


@contextlib.contextmanager
def payload_rig(kind: StoreKind, tmp_path: Path, spans: SpanCapture, *,
                mode: CaptureMode = "redacted", secret: str = SECRET,
                pipeline_version: str | None = "rag-v1", user_cohort: str | None = "control",
                content_on_spans: bool = False) -> Iterator[PayloadRig]:
    """obs configured with ``mode``, the identity defaults given and the store ``kind``;
    shut down (and its PostgreSQL schema dropped) on exit."""
    common: dict[str, Any] = {
        "tracer_provider": spans.tracer_provider, "meter_provider": spans.meter_provider,
        "trace_store": False, "capture_content": mode, "content_on_spans": content_on_spans,
        "pipeline_version": pipeline_version, "user_cohort": user_cohort,
    }
    rig: PayloadRig
    if kind == "sqlite":
        path = tmp_path / f"payloads-{uuid.uuid4().hex[:8]}.db"
        obs_core.configure(payload_store=path, hash_secret=secret, **common)
        rig = PayloadRig(kind=kind, spans=spans, reader=SQLitePayloadStore(path), sqlite_path=path)
    else:
        schema = f"obs_it_{uuid.uuid4().hex[:12]}"
        capture = build_capture(PayloadSettings(capture=mode, store=PG_DSN, postgres_schema=schema,
                                                hash_secret=secret, ttl_days=30.0), Scrubber())
        obs_core.configure(payload_store=False, observers=[capture] if capture else [], **common)
        rig = PayloadRig(kind=kind, spans=spans, schema=schema, capture=capture,
                         reader=PostgresPayloadStore(PG_DSN, schema=schema, connect_timeout_s=2))
    try:
        yield rig
    finally:
        obs_core.shutdown(timeout_s=10)
        if rig.capture is not None:
            rig.capture.close()
        rig.reader.close()
        if rig.schema is not None:
            with psycopg.connect(PG_DSN, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{rig.schema}" CASCADE')
