"""``obs evals``, the evaluation section of ``obs show``, and ``obs eval-worker``."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from core.evals.pipeline.pipeline_helpers import Scripted, finished
from obs_core import Recorder, RecorderSettings
from obs_core.cli import main
from obs_core.evals.pipeline import EvaluationSettings, PostgresEvalQueue, build_job, build_pipeline
from obs_core.runs import RunEnd, RunStart
from obs_core.spans import SpanKind
from obs_core.store import SQLiteTraceStore, TraceStoreExporter
from obs_core.store._evaluations import SQLiteEvaluationStore
from obs_core.testing import capture_spans


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("OBS_TRACE_STORE", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("OBS_DATA_DIR", str(tmp_path / "default-data"))


@pytest.fixture
def evaluated(tmp_path: Path) -> tuple[Path, str]:
    """A store holding one trace judged by a passing and a failing evaluator."""
    db = tmp_path / "traces.db"
    with capture_spans() as capture:
        capture.tracer_provider.add_span_processor(
            SimpleSpanProcessor(TraceStoreExporter(SQLiteTraceStore(db))))
        pipeline = build_pipeline(
            EvaluationSettings(evaluators=[Scripted(name="good", score=0.9),
                                           Scripted(name="bad", score=0.2)]),
            tracer_provider=capture.tracer_provider, meter_provider=capture.meter_provider,
            trace_store_path=db)
        recorder = Recorder(tracer_provider=capture.tracer_provider,
                            settings=RecorderSettings(observers=[pipeline]))
        root = uuid.uuid4()
        recorder.start(root, None, RunStart(kind=SpanKind.CHAIN, name="qa", inputs="question?"))
        recorder.end(root, RunEnd(outputs="answer."))
        pipeline.flush(10.0)
        pipeline.close()
        recorder.close()
        trace_id = f"{capture.one('qa').context.trace_id:032x}"
    return db, trace_id


def test_obs_evals_lists_every_result(evaluated: tuple[Path, str],
                                      capsys: pytest.CaptureFixture[str]) -> None:
    db, trace_id = evaluated

    assert main(["evals", "--db", str(db)]) == 0

    out = capsys.readouterr().out
    assert "good" in out
    assert "bad" in out
    assert trace_id[:16] in out


def test_obs_evals_failed_shows_only_failures(evaluated: tuple[Path, str],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    db, _ = evaluated

    main(["evals", "--db", str(db), "--failed", "--json"])

    rows = json.loads(capsys.readouterr().out)
    assert [(r["evaluator"], r["passed"]) for r in rows] == [("bad", False)]


def test_obs_evals_filters_by_trace_and_evaluator(evaluated: tuple[Path, str],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    db, trace_id = evaluated

    main(["evals", "--db", str(db), "--trace", trace_id[:8], "--evaluator", "good", "--json"])
    rows = json.loads(capsys.readouterr().out)
    main(["evals", "--db", str(db), "--trace", "ffff", "--json"])
    none = json.loads(capsys.readouterr().out)

    assert [r["evaluator"] for r in rows] == ["good"]
    assert none == []


def test_obs_show_lists_the_trace_evaluations(evaluated: tuple[Path, str],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    db, trace_id = evaluated

    assert main(["show", trace_id, "--db", str(db)]) == 0

    out = capsys.readouterr().out
    section = out.split("evaluations", 1)[1]
    assert "good" in section
    assert "FAIL" in section


PG_DSN = os.environ.get("OBS_TEST_PG_DSN", "host=127.0.0.1 port=5432 dbname=test user=postgres")


@pytest.mark.postgres
def test_obs_eval_worker_once_drains_the_queue_into_the_store(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    psycopg = pytest.importorskip("psycopg")
    schema = f"obs_evalw_{uuid.uuid4().hex[:12]}"
    db = tmp_path / "worker.db"
    try:
        queue = PostgresEvalQueue(PG_DSN, schema=schema)
        queue.create()
        queue.enqueue([build_job(
            [finished(trace_id="12" * 16, is_root=True, inputs="Is it safe?",
                      outputs="Yes, it is safe.", span_id="00000000000000bb")],
            evaluators=("safety", "conciseness"))])

        code = main(["eval-worker", "--dsn", PG_DSN, "--schema", schema, "--db", str(db),
                     "--once"])

        assert code == 0
        assert "evaluated 1 queued traces" in capsys.readouterr().out
        with SQLiteEvaluationStore(db) as store:
            rows = store.for_trace("12" * 16)
        assert sorted(r.evaluator for r in rows) == ["conciseness", "safety"]
        assert queue.counts() == {"done": 1}
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_obs_eval_worker_rejects_a_judge_evaluator_without_a_judge(
        capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["eval-worker", "--dsn", "postgresql://nowhere/x", "--evaluator",
                 "groundedness_judge", "--once"])

    assert code == 2
    assert "needs a judge" in capsys.readouterr().err
