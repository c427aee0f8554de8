"""What handing a finished run to the evaluation pipeline costs the application.

Run: ``python benchmarks/bench_eval_handoff.py [--runs N]``. Prints the median and 99th
percentile of ``EvaluationPipeline.on_run_end`` for child runs and for root runs (which also wake
the dispatcher); the target is a median at or under 5 µs. The evaluator behind the pipeline
sleeps 50 ms per trace, so the measurement also shows that a slow judge does not leak into the
hand-off. Evaluations that do not fit the job queue are dropped and counted, which is part of the
contract; the drop counts are printed.
"""

from __future__ import annotations

import argparse
import statistics
import time

from obs_core._selfmetrics import snapshot
from obs_core.evals import BaseEvaluator, EvalResult, EvalSample
from obs_core.evals.pipeline import EvaluationSettings, build_pipeline
from obs_core.runs import FinishedRun, RunEnd, RunStart
from obs_core.spans import RetrievedDocument, SpanKind


class _SlowJudge(BaseEvaluator):
    default_name = "slow_judge"
    base_version = "1"

    def __init__(self) -> None:
        super().__init__(threshold=0.5)

    def _evaluate(self, sample: EvalSample) -> EvalResult:
        time.sleep(0.05)
        return self._result(score=1.0, explanation="fine")


def _trace(index: int) -> list[FinishedRun]:
    trace_id = f"{index + 1:032x}"

    def run(kind: SpanKind, *, root: bool, end: RunEnd) -> FinishedRun:
        return FinishedRun(
            run_id=index, trace_id=trace_id, span_id=f"{index + 1:016x}", parent_span_id=None,
            kind=kind, name=kind.value, start=RunStart(kind=kind, name=kind.value, inputs="q?"),
            end=end, error_type=None, error_message=None,
            duration_s=0.01, cost_usd=None, start_time_unix_ns=0, is_root=root,
            conversation_id=None, user_id=None, user_cohort=None, pipeline_version=None,
        )

    return [
        run(SpanKind.RETRIEVER, root=False,
            end=RunEnd(documents=[RetrievedDocument(content="context")])),
        run(SpanKind.LLM, root=False,
            end=RunEnd(outputs=[{"role": "assistant", "content": "answer"}])),
        run(SpanKind.CHAIN, root=True, end=RunEnd(outputs=f"answer {index}")),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20_000, help="traces to hand over")
    args = parser.parse_args()
    # The inbox holds every run, so this measures the append itself; in production a burst
    # beyond ``inbox_size`` is dropped and counted instead.
    pipeline = build_pipeline(EvaluationSettings(evaluators=[_SlowJudge()], sample_rate=0.01,
                                                 queue_size=100, inbox_size=args.runs * 3))
    traces = [_trace(i) for i in range(args.runs)]
    children: list[float] = []
    roots: list[float] = []
    clock = time.perf_counter_ns
    for runs in traces:
        for run in runs:
            started = clock()
            pipeline.on_run_end(run)
            elapsed = clock() - started
            (roots if run.is_root else children).append(elapsed / 1_000)
    drain_started = time.perf_counter()
    while pipeline.traces_seen < len(traces) and time.perf_counter() - drain_started < 60:
        time.sleep(0.01)
    drained_s = time.perf_counter() - drain_started
    pipeline.close(timeout=1.0)
    print(f"{'hand-off':<12}{'median µs':>12}{'p99 µs':>10}{'calls':>10}")
    for label, samples in (("child run", children), ("root run", roots)):
        p99 = statistics.quantiles(samples, n=100)[98]
        print(f"{label:<12}{statistics.median(samples):>12.2f}{p99:>10.2f}{len(samples):>10}")
    print(f"dispatcher: {pipeline.traces_seen} traces grouped and sampled, "
          f"{drained_s:.2f} s after the last hand-off")
    dropped = snapshot()["dropped"]
    print(f"dropped (counted): {dict(sorted(dropped.items()))}")


if __name__ == "__main__":
    main()
