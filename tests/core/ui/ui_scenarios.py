"""Traces recorded through the real recorder into a real store file, for the viewer tests."""

from __future__ import annotations

import dataclasses
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from obs_core import Recorder, RecorderSettings, RunEnd, RunStart, SpanKind, TokenUsage
from obs_core.payloads import PayloadDocument, PayloadRecord, SQLitePayloadStore
from obs_core.spans import RetrievedDocument, SpanRecord
from obs_core.store import (
    EvaluationRow,
    SQLiteEvaluationStore,
    SQLiteTraceStore,
    TraceStoreExporter,
)

MS = 1_000_000
HOSTILE_NAME = "<script>alert('pwned')</script>"
UNGROUNDED_EXPLANATION = "1 of 1 claim(s) lack support: “Paris is on Mars” (not in the contexts: Mars)."
SCRUBBED_PROMPT = "I am <EMAIL_1>; where is Paris?"

Get = Callable[..., tuple[int, Any]]
"""``get(path, **params)`` → (HTTP status, decoded JSON body)."""


@dataclass(frozen=True)
class Recorded:
    db: Path
    payload_db: Path
    """Payloads of the rag trace: its model call (prompt :data:`SCRUBBED_PROMPT`) and its
    retrieval (documents d1, d2 with text)."""
    agent: str
    """Starts first: an agent with a 3-step limit that used all 3 steps (gpt-4o-mini), calling
    the ``search`` tool twice; session s-1, pipeline v2; lasts 3 s."""
    rag: str
    """Starts 5 s later: a retrieval (documents d1 0.9, d2 0.5) then a gpt-4o call with
    1 200 tokens and the highest cost; session s-2, pipeline v1; lasts 0.8 s. Groundedness
    failed it (:data:`UNGROUNDED_EXPLANATION`), safety passed it."""
    hostile: str
    """Starts 50 s after the first and ends now (over 10 s, the longest): root named
    :data:`HOSTILE_NAME`, its model call failed, so the trace is in error."""


class _Script:
    def __init__(self, recorder: Recorder, base_ns: int) -> None:
        self.recorder = recorder
        self.base_ns = base_ns

    def run(self, parent: uuid.UUID | None, start: RunStart, *, at_ms: float, to_ms: float,
            end: RunEnd | None = None) -> uuid.UUID:
        run_id = self.start(parent, start, at_ms=at_ms)
        self.end(run_id, end or RunEnd(), to_ms=to_ms)
        return run_id

    def start(self, parent: uuid.UUID | None, start: RunStart, *, at_ms: float) -> uuid.UUID:
        run_id = uuid.uuid4()
        self.recorder.start(run_id, parent, dataclasses.replace(
            start, start_time_ns=self.base_ns + int(at_ms * MS)))
        return run_id

    def end(self, run_id: uuid.UUID, end: RunEnd, *, to_ms: float) -> None:
        self.recorder.end(run_id, dataclasses.replace(
            end, end_time_ns=self.base_ns + int(to_ms * MS)))


def record_scenario(db: Path) -> Recorded:
    store = SQLiteTraceStore(db)
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(TraceStoreExporter(store)))
    recorder = Recorder(tracer_provider=provider, settings=RecorderSettings())
    s = _Script(recorder, time.time_ns() - 60_000 * MS)

    agent = s.start(None, RunStart(kind=SpanKind.AGENT, name="support agent", agent_step_limit=3,
                                   conversation_id="s-1", pipeline_version="v2"), at_ms=0)
    for step in range(3):
        s.run(agent, RunStart(kind=SpanKind.LLM, name="gpt-4o-mini", model="gpt-4o-mini"),
              at_ms=100 + step * 900, to_ms=400 + step * 900,
              end=RunEnd(usage=TokenUsage(input_tokens=100, output_tokens=10)))
        if step < 2:
            s.run(agent, RunStart(kind=SpanKind.TOOL, name="search"),
                  at_ms=500 + step * 900, to_ms=700 + step * 900)
    s.end(agent, RunEnd(stop_reason="max_iterations", max_iterations_reached=True), to_ms=3000)

    chain = s.start(None, RunStart(kind=SpanKind.CHAIN, name="rag query", conversation_id="s-2",
                                   pipeline_version="v1"), at_ms=5000)
    s.run(chain, RunStart(kind=SpanKind.RETRIEVER, name="docs"), at_ms=5010, to_ms=5100,
          end=RunEnd(documents=[RetrievedDocument(id="d1", score=0.9),
                                RetrievedDocument(id="d2", score=0.5)]))
    s.run(chain, RunStart(kind=SpanKind.LLM, name="gpt-4o", model="gpt-4o"),
          at_ms=5100, to_ms=5790,
          end=RunEnd(usage=TokenUsage(input_tokens=1000, output_tokens=200)))
    s.end(chain, RunEnd(), to_ms=5800)

    hostile = s.start(None, RunStart(kind=SpanKind.CHAIN, name=HOSTILE_NAME), at_ms=50_000)
    failing = s.start(hostile, RunStart(kind=SpanKind.LLM, name="gpt-4o-mini",
                                        model="gpt-4o-mini"), at_ms=50_010)
    recorder.error(failing, TimeoutError("model timed out"))
    recorder.error(hostile, TimeoutError("model timed out"))

    recorder.close()
    provider.shutdown()  # closes the store through the exporter
    with SQLiteTraceStore(db, read_only=True) as reader:
        by_name = {t.root_name: t.trace_id for t in reader.list_traces()}
        rag_spans = reader.get_trace(by_name["rag query"])
    payload_db = db.with_name("payloads.db")
    _judge_and_capture(db, payload_db, rag_spans)
    return Recorded(db=db, payload_db=payload_db, agent=by_name["invoke_agent support agent"],
                    rag=by_name["rag query"], hostile=by_name[HOSTILE_NAME])


def _judge_and_capture(db: Path, payload_db: Path, rag_spans: list[SpanRecord]) -> None:
    """What the evaluation pipeline and payload capture would have stored for the rag trace."""
    root, retriever, llm = rag_spans
    trace_id = root.trace_id
    with SQLiteEvaluationStore(db) as evaluations:
        evaluations.write([
            EvaluationRow(trace_id=trace_id, span_id=root.span_id, evaluator="groundedness",
                          score=0.25, label="ungrounded", passed=False,
                          explanation=UNGROUNDED_EXPLANATION, version="1.0", created_ns=1),
            EvaluationRow(trace_id=trace_id, span_id=root.span_id, evaluator="safety",
                          score=1.0, label="safe", passed=True,
                          explanation="No unsafe language found.", version="1.0", created_ns=2),
        ])
    payloads = SQLitePayloadStore(payload_db)
    common = {"trace_id": trace_id, "timestamp": datetime.now(timezone.utc), "duration_ms": 1.0}
    payloads.write([
        PayloadRecord(span_id=llm.span_id, kind="llm", name="gpt-4o", model="gpt-4o",
                      input=[{"role": "user", "content": SCRUBBED_PROMPT}],
                      output=[{"role": "assistant", "content": "Paris is on Mars."}], **common),
        PayloadRecord(span_id=retriever.span_id, kind="retriever", name="docs",
                      input="where is Paris?",
                      documents=[PayloadDocument(id="d1", score=0.9, content="Paris is in France."),
                                 PayloadDocument(id="d2", score=0.5, content="Lyon too.")],
                      **common),
    ])
    payloads.close()


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read(), exc.headers.get("Content-Type", "")
