"""Building finished runs and scripted evaluators for the pipeline tests."""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

from obs_core.evals import BaseEvaluator, EvalResult, EvalSample
from obs_core.runs import FinishedRun, RunEnd, RunStart
from obs_core.spans import RetrievedDocument, SpanKind

_ids = itertools.count(1)


def finished(*, trace_id: str = "ab" * 16, kind: SpanKind = SpanKind.CHAIN, name: str = "run",
             is_root: bool = False, inputs: Any = None, outputs: Any = None,
             documents: list[RetrievedDocument] | None = None, error: str | None = None,
             duration_s: float = 0.01, model: str | None = None,
             limit_hit: bool | None = None, span_id: str | None = None) -> FinishedRun:
    """A finished run as the recorder would hand it to observers."""
    number = next(_ids)
    end = None if error else RunEnd(outputs=outputs, documents=documents,
                                    max_iterations_reached=limit_hit)
    return FinishedRun(
        run_id=number, trace_id=trace_id, span_id=span_id or f"{number:016x}",
        parent_span_id=None if is_root else "00000000000000ff", kind=kind, name=name,
        start=RunStart(kind=kind, name=name, inputs=inputs, model=model), end=end,
        error_type=error, duration_s=duration_s, start_time_unix_ns=time.time_ns(),
        is_root=is_root,
    )


class Scripted(BaseEvaluator):
    """An evaluator whose behaviour the test controls: score, delay, failures, call count."""

    default_name = "scripted"
    base_version = "1"

    def __init__(self, *, name: str = "scripted", score: float = 0.9, delay_s: float = 0.0,
                 fail_times: int = 0, judge_model: str | None = None) -> None:
        super().__init__(threshold=0.5, name=name)
        self.score = score
        self.delay_s = delay_s
        self.fail_times = fail_times
        self.calls = 0
        self.samples: list[EvalSample] = []
        self._lock = threading.Lock()
        if judge_model is not None:
            self.judge_model = judge_model

    def _evaluate(self, sample: EvalSample) -> EvalResult:
        with self._lock:
            self.calls += 1
            self.samples.append(sample)
            failing = self.fail_times > 0
            if failing:
                self.fail_times -= 1
        if self.delay_s:
            time.sleep(self.delay_s)
        if failing:
            raise ConnectionError("judge unavailable")
        return self._result(score=self.score, explanation=f"scored {self.score}")
