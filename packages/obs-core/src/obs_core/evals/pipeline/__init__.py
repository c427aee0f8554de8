"""Online evaluation: finished traces are judged in the background, results become span events,
store rows and metrics.

Wiring (what ``configure()`` does)::

    pipeline = build_pipeline(
        EvaluationSettings(evaluators=[Groundedness(), Relevance()], sample_rate=0.2),
        tracer_provider=tracer_provider, meter_provider=meter_provider,
        trace_store_path=store_path,
    )
    recorder_settings = RecorderSettings(observers=[pipeline, ...])
    ...
    pipeline.flush(5.0); pipeline.close()

With ``dsn=`` the application only inserts sampled traces into a PostgreSQL queue, and
``obs eval-worker --dsn ...`` processes evaluate them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import TracerProvider

from obs_core.evals.base import Evaluator
from obs_core.evals.pipeline._breaker import BreakerState, CircuitBreaker
from obs_core.evals.pipeline._cache import ResultCache, cache_key
from obs_core.evals.pipeline._pg_queue import ClaimedJob, PostgresEvalQueue
from obs_core.evals.pipeline._pipeline import EvaluationPipeline, SupportsScrubValue
from obs_core.evals.pipeline._remote import QueueWorker
from obs_core.evals.pipeline._results import TRACER_NAME, ResultSink
from obs_core.evals.pipeline._samples import EvalJob, TraceCollector, build_job
from obs_core.evals.pipeline._sampling import SamplingPolicy, in_sample
from obs_core.evals.pipeline._worker import JobRunner, WorkerPool
from obs_core.metrics import EvaluationListener

__all__ = [
    "TRACER_NAME",
    "BreakerState",
    "CircuitBreaker",
    "ClaimedJob",
    "EvalJob",
    "EvaluationPipeline",
    "EvaluationSettings",
    "JobRunner",
    "PostgresEvalQueue",
    "QueueWorker",
    "ResultCache",
    "ResultSink",
    "SamplingPolicy",
    "TraceCollector",
    "WorkerPool",
    "build_job",
    "build_pipeline",
    "build_runner",
    "cache_key",
    "in_sample",
]


@dataclass(frozen=True, kw_only=True)
class EvaluationSettings:
    """How online evaluation behaves; every field has a production-safe default."""

    evaluators: Sequence[Evaluator] = ()
    """What to run on each sampled trace (names must be unique)."""
    sample_rate: float = 1.0
    """Share of ordinary traces evaluated, per evaluator (by a hash of the trace id)."""
    sample_rates: Mapping[str, float] = field(default_factory=dict)
    """Per-evaluator overrides of ``sample_rate``."""
    always_evaluate_errors: bool = True
    always_evaluate_limit_hit: bool = True
    slow_threshold_s: float | None = 30.0
    """Traces at least this slow are always evaluated (``None``: no such rule)."""
    workers: int = 1
    """In-process worker threads."""
    queue_size: int = 1_000
    """Pending (trace, evaluator) jobs; beyond it jobs are dropped and counted."""
    inbox_size: int = 10_000
    """Finished runs waiting for the dispatcher; beyond it runs are dropped and counted."""
    max_open_traces: int = 1_000
    max_runs_per_trace: int = 256
    timeout_s: float = 60.0
    """Per evaluation call; a call that takes longer becomes a ``TimeoutError`` failure."""
    max_retries: int = 2
    backoff_s: float = 1.0
    """First retry delay; doubles per retry."""
    breaker_failures: int = 5
    """Consecutive failures of one evaluator that open its circuit."""
    breaker_reset_s: float = 30.0
    """How long an open circuit refuses calls before one probe is let through."""
    cache_size: int = 10_000
    remote_evaluators: Sequence[str] = ()
    """With ``dsn``: names of the evaluators the workers run (default: ``evaluators``' names)."""
    dsn: str | None = None
    """PostgreSQL DSN: enqueue traces for ``obs eval-worker`` instead of evaluating here."""
    queue_table: str = "obs_eval_jobs"
    queue_schema: str | None = None
    scrubber: SupportsScrubValue | None = None
    """The shared scrubber; every sampled trace is scrubbed with it before an evaluator sees it
    or it goes to PostgreSQL (``None`` outside ``configure()``: a default
    :class:`~obs_core.payloads.Scrubber`)."""

    def __post_init__(self) -> None:
        names = [e.name for e in self.evaluators]
        if len(set(names)) != len(names):
            raise ValueError(f"evaluator names must be unique, got {names}")
        if self.workers < 1:
            raise ValueError("workers must be at least 1")

    def sampling(self) -> SamplingPolicy:
        return SamplingPolicy(
            rate=self.sample_rate, rates=dict(self.sample_rates),
            always_errors=self.always_evaluate_errors,
            always_limit_hit=self.always_evaluate_limit_hit,
            always_slow_s=self.slow_threshold_s,
        )


def build_runner(
    settings: EvaluationSettings,
    *,
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
    trace_store_path: str | os.PathLike[str] | None = None,
    evaluation_listeners: Sequence[EvaluationListener] = (),
) -> JobRunner:
    """The part that evaluates and publishes (shared with ``obs eval-worker``)."""
    from obs_core.metrics import EvaluationMetrics
    from obs_core.store._evaluations import SQLiteEvaluationStore

    store = SQLiteEvaluationStore(trace_store_path) if trace_store_path is not None else None
    metrics = EvaluationMetrics(meter_provider, listeners=evaluation_listeners)
    sink = ResultSink(tracer_provider=tracer_provider, metrics=metrics, store=store)
    return JobRunner(
        evaluators=settings.evaluators, sink=sink, cache=ResultCache(max_entries=settings.cache_size),
        timeout_s=settings.timeout_s, max_retries=settings.max_retries,
        backoff_s=settings.backoff_s, breaker_failures=settings.breaker_failures,
        breaker_reset_s=settings.breaker_reset_s, call_threads=max(2, settings.workers * 2),
    )


def build_pipeline(
    settings: EvaluationSettings,
    *,
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
    trace_store_path: str | os.PathLike[str] | None = None,
    evaluation_listeners: Sequence[EvaluationListener] = (),
) -> EvaluationPipeline:
    """A ready :class:`EvaluationPipeline` (threads started). Pass it to the recorder's
    ``observers``; call ``close()`` on shutdown. ``evaluation_listeners`` (e.g. the alert
    engine) receive every result's facts through :class:`~obs_core.metrics.EvaluationMetrics`."""
    collector = TraceCollector(max_open_traces=settings.max_open_traces,
                               max_runs_per_trace=settings.max_runs_per_trace)
    scrubber = settings.scrubber
    if scrubber is None:
        from obs_core.payloads import Scrubber

        scrubber = Scrubber()
    names = [e.name for e in settings.evaluators]
    if settings.dsn is not None and settings.remote_evaluators:
        names = list(dict.fromkeys(settings.remote_evaluators))
    if settings.dsn is not None:
        remote = PostgresEvalQueue(settings.dsn, table=settings.queue_table,
                                   schema=settings.queue_schema)
        remote.create()
        return EvaluationPipeline(evaluator_names=names, sampling=settings.sampling(),
                                  collector=collector, remote=remote, scrub=scrubber,
                                  inbox_size=settings.inbox_size)
    runner = build_runner(settings, tracer_provider=tracer_provider,
                          meter_provider=meter_provider, trace_store_path=trace_store_path,
                          evaluation_listeners=evaluation_listeners)
    pool = WorkerPool(runner, workers=settings.workers, queue_size=settings.queue_size)
    return EvaluationPipeline(evaluator_names=names, sampling=settings.sampling(),
                              collector=collector, pool=pool, scrub=scrubber,
                              inbox_size=settings.inbox_size)
