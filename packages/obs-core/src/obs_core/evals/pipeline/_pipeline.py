"""The evaluation pipeline as a :class:`~obs_core.runs.RunObserver`.

``on_run_end`` runs on the application's callback thread and only appends the run to an inbox
(a length check and a ``deque.append``; the root run also sets an event), so handing a trace
over costs the application a few microseconds (see ``benchmarks/bench_eval_handoff.py``). A
dispatcher thread groups runs by trace, builds the sample when the root ends, samples per
evaluator and hands (trace, evaluator) jobs to the worker threads, or, with a DSN, inserts the
trace into the PostgreSQL queue that ``obs eval-worker`` processes drain.

Samples are built from the runs' raw inputs and outputs, so the dispatcher scrubs each sampled
job with the shared scrubber before any evaluator sees it: evaluators may send their text out
(a judge's chat request, an embeddings request), and only scrubbed text may leave the process.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import replace

from obs_core import _selfmetrics
from obs_core._guard import guard
from obs_core.evals.pipeline._pg_queue import PostgresEvalQueue
from obs_core.evals.pipeline._samples import EvalJob, TraceCollector, build_job
from obs_core.evals.pipeline._sampling import SamplingPolicy
from obs_core.evals.pipeline._scrubbing import SupportsScrubValue, scrub_sample
from obs_core.evals.pipeline._worker import WorkerPool
from obs_core.runs import FinishedRun

__all__ = ["EvaluationPipeline", "SupportsScrubValue"]

logger = logging.getLogger("obs.evals.pipeline")

_IDLE_WAIT_S = 0.05


class EvaluationPipeline:
    """Receives finished runs, evaluates finished traces in the background.

    Build it with :func:`obs_core.evals.pipeline.build_pipeline`; pass it to the recorder as an
    observer. ``flush`` waits for everything handed over so far; ``close`` stops the threads.
    """

    def __init__(
        self,
        *,
        evaluator_names: Sequence[str],
        sampling: SamplingPolicy,
        collector: TraceCollector,
        pool: WorkerPool | None = None,
        remote: PostgresEvalQueue | None = None,
        scrub: SupportsScrubValue | None = None,
        inbox_size: int = 10_000,
    ) -> None:
        if (pool is None) == (remote is None):
            raise ValueError("an evaluation pipeline needs exactly one of pool or remote")
        self.evaluator_names = tuple(evaluator_names)
        self.sampling = sampling
        self.pool = pool
        self.remote = remote
        self._scrub = scrub
        self._collector = collector
        self._inbox: collections.deque[FinishedRun] = collections.deque()
        self._inbox_size = max(1, inbox_size)
        self._wake = threading.Event()
        self._busy = False
        self._closed = False
        self._stop = threading.Event()
        self.traces_seen = 0
        self._dispatcher = threading.Thread(target=self._dispatch_loop, name="obs-eval-dispatch",
                                            daemon=True)
        self._dispatcher.start()
        _selfmetrics.register_gauge("evaluation_inbox", self._inbox.__len__)

    # --- the application's side: must stay cheap ------------------------------------------

    def on_run_end(self, run: FinishedRun) -> None:
        """Called on the callback thread: append and return (drop, counted, when full)."""
        if len(self._inbox) >= self._inbox_size or self._closed:
            _selfmetrics.count_drop("evaluation_closed" if self._closed else "evaluation_inbox_full")
            return
        self._inbox.append(run)
        if run.is_root:
            self._wake.set()

    # --- lifecycle -------------------------------------------------------------------------

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every run handed over so far has been evaluated (or enqueued remotely);
        ``False`` when ``timeout`` ran out first."""
        deadline = time.monotonic() + timeout
        self._wake.set()
        while self._inbox or self._busy:
            if time.monotonic() >= deadline:
                return False
            self._wake.set()
            time.sleep(0.005)
        return self.pool.wait_idle(deadline) if self.pool is not None else True

    def close(self, timeout: float = 5.0) -> None:
        """Finish what was handed over (within ``timeout``), then stop the threads."""
        if self._closed:
            return
        self.flush(timeout)
        self._closed = True
        self._stop.set()
        self._wake.set()
        self._dispatcher.join(timeout)
        if self.pool is not None:
            self.pool.close(timeout)

    # --- the dispatcher thread -------------------------------------------------------------

    def _dispatch_loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(_IDLE_WAIT_S)
            self._wake.clear()
            self._busy = True
            try:
                with guard("evals.pipeline.dispatch"):
                    self._drain()
            finally:
                self._busy = False

    def _drain(self) -> None:
        remote_jobs: list[EvalJob] = []
        while self._inbox:
            run = self._inbox.popleft()
            runs = self._collector.add(run)
            if runs is None:
                continue
            self.traces_seen += 1
            with guard("evals.pipeline.sample"):
                job = self._plan(runs)
                if job is None:
                    continue
                job = self._scrubbed(job)
                if self.pool is not None:
                    for name in job.evaluators:
                        self.pool.submit(job, name)
                else:
                    remote_jobs.append(job)
        if remote_jobs and self.remote is not None:
            self._send_remote(self.remote, remote_jobs)

    def _plan(self, runs: list[FinishedRun]) -> EvalJob | None:
        job = build_job(runs)
        forced = self.sampling.forced_reason(errored=job.errored, duration_s=job.duration_s,
                                             limit_hit=job.limit_hit)
        chosen = tuple(n for n in self.evaluator_names
                       if self.sampling.selects(job.trace_id, n, forced=forced is not None))
        if not chosen:
            return None
        return replace(job, evaluators=chosen, forced=forced)

    def _send_remote(self, remote: PostgresEvalQueue, jobs: list[EvalJob]) -> None:
        try:
            remote.enqueue(jobs)
        except (ConnectionError, OSError) as exc:
            _selfmetrics.count_drop("evaluation_remote_unavailable", len(jobs))
            logger.warning("could not enqueue %d evaluation jobs: %s", len(jobs), exc)

    def _scrubbed(self, job: EvalJob) -> EvalJob:
        if self._scrub is None:
            return job
        make_session = getattr(self._scrub, "session", None)
        scrubber = make_session() if callable(make_session) else self._scrub
        sample = scrub_sample(job.sample, scrubber)
        return replace(job, sample=sample)
