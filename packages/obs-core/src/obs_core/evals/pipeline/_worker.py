"""Running evaluators off the application's threads: cache, circuit breaker, per-call timeout
and retries with backoff around each (trace, evaluator) job.

:class:`JobRunner` is shared by the in-process worker threads (:class:`WorkerPool`) and the
``obs eval-worker`` process that claims jobs from PostgreSQL.
"""

from __future__ import annotations

import concurrent.futures
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence

from obs_core import _selfmetrics
from obs_core._guard import guard
from obs_core.evals.base import EvalFailure, EvalResult, Evaluator, MissingInputError
from obs_core.evals.pipeline._breaker import CircuitBreaker
from obs_core.evals.pipeline._cache import ResultCache, cache_key
from obs_core.evals.pipeline._results import ResultSink
from obs_core.evals.pipeline._samples import EvalJob

__all__ = ["JobRunner", "WorkerPool"]

logger = logging.getLogger("obs.evals.pipeline")

Outcome = EvalResult | EvalFailure


class JobRunner:
    """Evaluates jobs and publishes their outcomes. Thread-safe."""

    def __init__(
        self,
        *,
        evaluators: Sequence[Evaluator],
        sink: ResultSink,
        cache: ResultCache | None = None,
        timeout_s: float = 60.0,
        max_retries: int = 2,
        backoff_s: float = 1.0,
        breaker_failures: int = 5,
        breaker_reset_s: float = 30.0,
        call_threads: int = 4,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        self.evaluators: dict[str, Evaluator] = {e.name: e for e in evaluators}
        self.sink = sink
        self.cache = cache if cache is not None else ResultCache()
        self.timeout_s = timeout_s
        self.max_retries = max(0, max_retries)
        self.backoff_s = backoff_s
        self.breakers = {
            name: CircuitBreaker(failures=breaker_failures, reset_s=breaker_reset_s)
            for name in self.evaluators
        }
        self._sleep = sleep
        # Calls run here so a hung evaluator can be abandoned after timeout_s; the worker moves
        # on while the call finishes (or not) in the background.
        self._calls = concurrent.futures.ThreadPoolExecutor(
            max_workers=max(1, call_threads), thread_name_prefix="obs-eval-call"
        )

    def run(self, job: EvalJob, name: str) -> Outcome | None:
        """Evaluate ``job`` with evaluator ``name`` and publish; ``None`` when skipped (unknown
        evaluator, open circuit, or a sample the evaluator cannot judge)."""
        evaluator = self.evaluators.get(name)
        if evaluator is None:
            logger.warning("no evaluator named %r here; skipped", name)
            _selfmetrics.count_drop("evaluation_unknown_evaluator")
            return None
        judge_model = getattr(evaluator, "judge_model", None)
        judge_model = judge_model if isinstance(judge_model, str) else None
        key = cache_key(job.sample, evaluator=name, version=evaluator.version, judge_model=judge_model)
        cached = self.cache.get(key)
        if cached is not None:
            self.sink.publish(job, cached, judge_model=judge_model, cached=True)
            return cached
        outcome = self._attempts(evaluator, job)
        if outcome is None:
            return None
        if isinstance(outcome, EvalResult):
            self.cache.put(key, outcome)
        self.sink.publish(job, outcome, judge_model=judge_model)
        return outcome

    def run_all(self, job: EvalJob) -> list[Outcome]:
        outcomes = []
        for name in job.evaluators:
            with guard("evals.pipeline.job"):
                outcome = self.run(job, name)
                if outcome is not None:
                    outcomes.append(outcome)
        return outcomes

    def close(self) -> None:
        self._calls.shutdown(wait=False, cancel_futures=True)
        with guard("evals.pipeline.close"):
            self.sink.close()

    def _attempts(self, evaluator: Evaluator, job: EvalJob) -> Outcome | None:
        breaker = self.breakers[evaluator.name]
        outcome: Outcome | None = None
        for attempt in range(self.max_retries + 1):
            if attempt:
                self._sleep(self.backoff_s * (2 ** (attempt - 1)))
            if not breaker.allow():
                _selfmetrics.count_drop("evaluation_circuit_open")
                return None
            outcome = self._call(evaluator, job)
            if isinstance(outcome, EvalResult):
                breaker.record(success=True)
                return outcome
            if outcome.error_type == MissingInputError.__name__:
                breaker.release()
                return None
            breaker.record(success=False)
        return outcome

    def _call(self, evaluator: Evaluator, job: EvalJob) -> Outcome:
        started = time.perf_counter()
        try:
            future = self._calls.submit(evaluator.evaluate, job.sample)
        except RuntimeError:  # closed while this job was in flight
            return EvalFailure(name=evaluator.name, version=evaluator.version,
                               error_type="ShutdownError", message="the pipeline was closed")
        try:
            return future.result(timeout=self.timeout_s)
        except concurrent.futures.TimeoutError:
            future.cancel()
            return EvalFailure(
                name=evaluator.name, version=evaluator.version, error_type="TimeoutError",
                message=f"evaluation took longer than {self.timeout_s}s",
                duration_ms=round((time.perf_counter() - started) * 1000.0, 3),
            )


class WorkerPool:
    """Worker threads draining a bounded queue of (job, evaluator) pairs."""

    def __init__(self, runner: JobRunner, *, workers: int = 1, queue_size: int = 1_000) -> None:
        self.runner = runner
        self._queue: queue.Queue[tuple[EvalJob, str] | None] = queue.Queue(maxsize=max(1, queue_size))
        self._pending = 0
        self._idle = threading.Condition()
        self._threads = [
            threading.Thread(target=self._work, name=f"obs-eval-worker-{i}", daemon=True)
            for i in range(max(1, workers))
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, job: EvalJob, name: str) -> bool:
        """Queue one evaluation; ``False`` (and a counted drop) when the queue is full."""
        with self._idle:
            self._pending += 1
        try:
            self._queue.put_nowait((job, name))
        except queue.Full:
            self._done()
            _selfmetrics.count_drop("evaluation_queue_full")
            return False
        return True

    @property
    def pending(self) -> int:
        with self._idle:
            return self._pending

    def wait_idle(self, deadline: float) -> bool:
        with self._idle:
            while self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
            return True

    def close(self, timeout: float = 5.0) -> None:
        """Stop the workers; jobs still queued are discarded (counted as drops)."""
        deadline = time.monotonic() + timeout
        discarded = 0
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                discarded += 1
                self._done()
        if discarded:
            _selfmetrics.count_drop("evaluation_shutdown", discarded)
        try:
            for _ in self._threads:
                self._queue.put(None, timeout=max(0.0, deadline - time.monotonic()))
        except queue.Full:
            logger.warning("evaluation workers still busy at close; left to finish as daemons")
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.runner.close()

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            job, name = item
            try:
                with guard("evals.pipeline.worker"):
                    self.runner.run(job, name)
            finally:
                self._done()

    def _done(self) -> None:
        with self._idle:
            self._pending -= 1
            if self._pending <= 0:
                self._idle.notify_all()
