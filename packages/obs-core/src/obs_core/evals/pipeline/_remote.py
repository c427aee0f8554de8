"""The body of an ``obs eval-worker`` process: claim jobs from PostgreSQL, evaluate, settle."""

from __future__ import annotations

import logging
import os
import socket
import threading

from obs_core._guard import guard
from obs_core.evals.pipeline._pg_queue import PostgresEvalQueue
from obs_core.evals.pipeline._worker import JobRunner

__all__ = ["QueueWorker"]

logger = logging.getLogger("obs.evals.worker")


class QueueWorker:
    """Claims batches with ``SKIP LOCKED`` and evaluates them with a :class:`JobRunner`.

    A job whose evaluation raised (a bug or an outage of the result store) is released for
    another attempt; evaluator failures are data and settle the job like results do.
    """

    def __init__(self, queue: PostgresEvalQueue, runner: JobRunner, *, name: str | None = None,
                 batch: int = 10, poll_s: float = 1.0) -> None:
        self.queue = queue
        self.runner = runner
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        self.batch = max(1, batch)
        self.poll_s = poll_s
        self.processed = 0

    def run_once(self) -> list[int]:
        """Claim and process one batch; the ids of the jobs it settled as done."""
        done: list[int] = []
        for claimed in self.queue.claim(self.name, limit=self.batch):
            try:
                self.runner.run_all(claimed.job)
            except Exception as exc:  # noqa: BLE001 - the job goes back to the queue, counted
                with guard("evals.worker.release"):
                    self.queue.release(claimed.id, f"{type(exc).__name__}: {exc}")
                logger.warning("evaluation job %d failed: %s", claimed.id, exc)
                continue
            done.append(claimed.id)
        self.queue.complete(done)
        self.processed += len(done)
        return done

    def run(self, stop: threading.Event) -> None:
        """Until ``stop`` is set: process batches, sleeping ``poll_s`` when the queue is empty."""
        while not stop.is_set():
            try:
                worked = self.run_once()
            except ConnectionError as exc:
                logger.warning("evaluation queue unavailable: %s", exc)
                worked = []
            if not worked:
                stop.wait(self.poll_s)
