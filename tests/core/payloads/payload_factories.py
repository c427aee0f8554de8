"""Builders shared by the payload capture and store tests: finished runs, captures, a TCP proxy
that can take PostgreSQL away and bring it back."""

from __future__ import annotations

import contextlib
import itertools
import os
import select
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from obs_core.payloads import PayloadCapture, PayloadRecord, PayloadStore, Scrubber
from obs_core.payloads._blobs import PayloadLimiter
from obs_core.payloads._hashing import PromptHasher
from obs_core.runs import FinishedRun, RunEnd, RunStart
from obs_core.spans import RetrievedDocument, SpanKind, TokenUsage

PG_DSN = os.environ.get("OBS_TEST_PG_DSN", "host=127.0.0.1 port=5432 dbname=test user=postgres")
SECRET = b"test-secret-0123456789abcdef"

# Planted values the scrubber must catch; none may ever appear in stored bytes.
PLANTED_EMAIL = "marguerite.okafor@example.org"
PLANTED_CARD = "4111 1111 1111 1111"
PLANTED_KEY = "sk-proj-Zr8vQ2mLx9TfK3wNpB7yHc4JdE6uA1sG"
PLANTED = (PLANTED_EMAIL, PLANTED_CARD, PLANTED_KEY)

_span_counter = itertools.count(1)
T0_NS = 1_760_000_000_000_000_000  # 2025-10-09, a fixed moment for records that need one


def trace_id() -> str:
    return uuid.uuid4().hex


def span_id() -> str:
    return f"{next(_span_counter):016x}"


def make_run(
    kind: SpanKind = SpanKind.LLM,
    *,
    name: str | None = None,
    inputs: Any = None,
    outputs: Any = None,
    documents: list[RetrievedDocument] | None = None,
    usage: TokenUsage | None = None,
    trace: str | None = None,
    span: str | None = None,
    parent: str | None = None,
    start_ns: int | None = None,
    failed: Exception | None = None,
    model: str | None = "gpt-4o-mini",
    conversation_id: str | None = "session-1",
    user_cohort: str | None = "beta",
    pipeline_version: str | None = "v7",
    embedding_input_count: int | None = None,
) -> FinishedRun:
    """A finished run as the recorder hands it to observers."""
    start = RunStart(kind=kind, name=name or kind.value, model=model, provider="openai",
                     inputs=inputs)
    end = None if failed is not None else RunEnd(
        usage=usage, outputs=outputs, documents=documents, response_model=model,
        embedding_input_count=embedding_input_count,
        embedding_dimensions=384 if embedding_input_count is not None else None,
    )
    return FinishedRun(
        run_id=uuid.uuid4(),
        trace_id=trace if trace is not None else trace_id(),
        span_id=span if span is not None else span_id(),
        parent_span_id=parent,
        kind=kind,
        name=name or kind.value,
        start=start,
        end=end,
        error_type=type(failed).__name__ if failed is not None else None,
        error_message=str(failed) if failed is not None else None,
        duration_s=0.25,
        cost_usd=0.0012 if kind is SpanKind.LLM else None,
        start_time_unix_ns=start_ns if start_ns is not None else time.time_ns(),
        is_root=parent is None,
        conversation_id=conversation_id,
        user_cohort=user_cohort,
        pipeline_version=pipeline_version,
    )


def make_record(*, trace: str | None = None, span: str | None = None,
                timestamp: datetime | None = None, **fields: Any) -> PayloadRecord:
    """A stored record as capture would build it, for store tests."""
    values: dict[str, Any] = {
        "kind": "llm", "name": "chat", "model": "gpt-4o-mini", "duration_ms": 12.5,
        "input": chat("hello"), "output": {"role": "assistant", "content": "hi"},
        "input_tokens": 5, "output_tokens": 1, "session_id": "session-1",
        "pipeline_version": "v7", "user_cohort": "beta",
    }
    values.update(fields)
    return PayloadRecord(
        trace_id=trace or trace_id(), span_id=span or span_id(),
        timestamp=timestamp or datetime.now(timezone.utc), **values,
    )


def days_ago(days: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(days=days)


def chat(text: str) -> list[dict[str, Any]]:
    return [{"role": "system", "content": "You are terse."}, {"role": "user", "content": text}]


def make_capture(store: PayloadStore | None, **options: Any) -> PayloadCapture:
    """A capture tuned for tests: short intervals, the real scrubber unless told otherwise."""
    options.setdefault("hasher", PromptHasher(SECRET))
    options.setdefault("flush_interval_s", 0.02)
    options.setdefault("retry_initial_s", 0.02)
    options.setdefault("retry_max_s", 0.1)
    options.setdefault("ttl", timedelta(days=30))
    if options.get("mode", "redacted") == "redacted":
        options.setdefault("scrubber", real_scrubber())
    return PayloadCapture(store=store, **options)


def real_scrubber() -> Scrubber:
    return Scrubber()


def limiter(max_bytes: int, *, blob_dir: Path | None = None) -> PayloadLimiter:
    return PayloadLimiter(max_bytes=max_bytes, oversize="offload" if blob_dir else "truncate",
                          blob_dir=blob_dir)


def raw_bytes(*paths: Path) -> bytes:
    """Everything on disk under ``paths`` (files, or every file below a directory)."""
    chunks: list[bytes] = []
    for path in paths:
        files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
        chunks += [f.read_bytes() for f in files if f.exists()]
    return b"\n".join(chunks)


class TcpProxy:
    """Forwards a local ephemeral port to ``target``; ``stop()`` is an outage (listener closed,
    live connections cut), ``start()`` brings the same port back."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.port = listener.getsockname()[1]
        self._listener = listener
        thread = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        for thread in self._threads:
            thread.join(2)
        self._threads = []

    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} dbname=test user=postgres password=s3cr3t-pw"

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=2)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            thread = threading.Thread(target=_pipe, args=(client, upstream), daemon=True)
            thread.start()


def _pipe(a: socket.socket, b: socket.socket) -> None:
    try:
        while True:
            readable, _, _ = select.select([a, b], [], [], 0.5)
            for sock in readable:
                data = sock.recv(65536)
                if not data:
                    return
                (b if sock is a else a).sendall(data)
    except (OSError, ValueError):
        return
    finally:
        for sock in (a, b):
            with contextlib.suppress(OSError):
                sock.close()


@contextlib.contextmanager
def proxy_to_postgres() -> Iterator[TcpProxy]:
    proxy = TcpProxy(("127.0.0.1", 5432))
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()
