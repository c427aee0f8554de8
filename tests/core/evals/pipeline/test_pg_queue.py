"""The PostgreSQL queue between applications and ``obs eval-worker`` processes."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator

import pytest

from core.evals.pipeline.pipeline_helpers import Scripted, finished
from obs_core.evals import EvalSample
from obs_core.evals.pipeline import (
    EvalJob,
    EvaluationSettings,
    JobRunner,
    PostgresEvalQueue,
    QueueWorker,
    ResultSink,
    build_job,
    build_pipeline,
)
from obs_core.spans import SpanKind
from obs_core.testing import capture_spans

psycopg = pytest.importorskip("psycopg")

PG_DSN = os.environ.get("OBS_TEST_PG_DSN", "host=127.0.0.1 port=5432 dbname=test user=postgres")

pytestmark = pytest.mark.postgres


@pytest.fixture
def schema() -> Iterator[str]:
    name = f"obs_evalq_{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.fixture
def queue(schema: str) -> PostgresEvalQueue:
    q = PostgresEvalQueue(PG_DSN, schema=schema)
    q.create()
    return q


def _jobs(n: int) -> list[EvalJob]:
    return [
        build_job([finished(trace_id=f"{i + 1:032x}", is_root=True, inputs="q", outputs=f"a{i}",
                            span_id=f"{i + 1:016x}")], evaluators=("scripted",))
        for i in range(n)
    ]


def test_two_workers_claim_disjoint_jobs(queue: PostgresEvalQueue) -> None:
    queue.enqueue(_jobs(20))

    first = queue.claim("worker-a", limit=8)
    second = queue.claim("worker-b", limit=50)

    ids_a, ids_b = {c.id for c in first}, {c.id for c in second}
    assert (len(ids_a), len(ids_b)) == (8, 12)
    assert not ids_a & ids_b


def test_concurrent_claims_never_share_a_job(queue: PostgresEvalQueue) -> None:
    queue.enqueue(_jobs(40))
    claimed: dict[str, list[int]] = {"a": [], "b": []}
    start = threading.Barrier(2)

    def claim_all(name: str) -> None:
        start.wait()
        while batch := queue.claim(name, limit=3):
            claimed[name].extend(c.id for c in batch)

    threads = [threading.Thread(target=claim_all, args=(n,)) for n in claimed]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert not set(claimed["a"]) & set(claimed["b"])
    assert len(claimed["a"]) + len(claimed["b"]) == 40


def test_a_claimed_job_round_trips_its_sample(queue: PostgresEvalQueue) -> None:
    [job] = _jobs(1)
    queue.enqueue([job])

    [claimed] = queue.claim("w")

    assert claimed.job.sample == job.sample
    assert claimed.job.evaluators == ("scripted",)
    assert claimed.attempts == 1


def test_a_batch_of_differing_jobs_comes_out_of_the_queue_as_it_went_in_and_in_order(
        queue: PostgresEvalQueue) -> None:
    batch = [
        EvalJob(trace_id="a1" * 16, span_id="b1" * 8, evaluators=("faithfulness", "toxicity"),
                sample=EvalSample(input="Qu'est-ce qu'un « cœur » ? 心臓 🫀",
                                  output='say "hi", {then} \\ bye\nend',
                                  contexts=["first", "Ünïcödé, with {braces}"],
                                  logprobs=[("Hi", -0.25), ("!", 0.0)], samples=["alt"],
                                  metadata={"row": 7, "tags": ["x", None]}),
                attributes={"gen_ai.request.model": "gpt-ø", "obs.retries": 2}, forced="error"),
        EvalJob(trace_id="a2" * 16, span_id="b2" * 8, evaluators=(), sample=EvalSample()),
        EvalJob(trace_id="a3" * 16, span_id="", evaluators=("scripted",),
                sample=EvalSample(output="ü", contexts=[""]), attributes={"none": None},
                forced="slow"),
    ]
    queue.enqueue(batch)

    claimed = queue.claim("w", limit=10)

    assert [c.job for c in claimed] == batch


def test_an_expired_lease_makes_the_job_claimable_again(schema: str) -> None:
    q = PostgresEvalQueue(PG_DSN, schema=schema, lease_s=0.0)
    q.create()
    q.enqueue(_jobs(1))

    q.claim("crashed-worker")
    [again] = q.claim("other-worker")

    assert again.attempts == 2


def test_a_queue_worker_evaluates_and_settles_its_jobs(queue: PostgresEvalQueue) -> None:
    queue.enqueue(_jobs(3))
    evaluator = Scripted()
    with capture_spans() as capture:
        runner = JobRunner(evaluators=[evaluator],
                           sink=ResultSink(tracer_provider=capture.tracer_provider))
        worker = QueueWorker(queue, runner, name="w1")

        done = worker.run_once()

        assert len(done) == 3
        assert evaluator.calls == 3
        assert queue.counts() == {"done": 3}
        assert len(capture.by_name("evaluate scripted")) == 3
        runner.close()


def test_the_app_side_pipeline_enqueues_scrubbed_samples_instead_of_evaluating(
        schema: str) -> None:
    evaluator = Scripted()
    pipeline = build_pipeline(EvaluationSettings(evaluators=[evaluator], dsn=PG_DSN,
                                                 queue_schema=schema))
    pipeline.on_run_end(finished(trace_id="ee" * 16, kind=SpanKind.LLM))
    pipeline.on_run_end(finished(trace_id="ee" * 16, is_root=True,
                                 inputs="Write to jane.doe@example.com", outputs="Done."))
    pipeline.flush(10.0)
    pipeline.close()

    [claimed] = PostgresEvalQueue(PG_DSN, schema=schema).claim("w")
    assert evaluator.calls == 0
    assert "jane.doe@example.com" not in claimed.job.sample.input
    assert claimed.job.trace_id == "ee" * 16
