"""What handing a finished run to the evaluation pipeline costs the application.

Run: ``python benchmarks/bench_eval_handoff.py [--runs N]``. Prints the median and 99th
percentile of ``EvaluationPipeline.on_run_end`` for child runs and for root runs (which also wake
the dispatcher); the target is a median at or under 5 µs. The evaluator behind the pipeline
sleeps 50 ms per trace, so the measurement also shows that a slow judge does not leak into the
hand-off. Evaluations that do not fit the job queue are dropped and counted, which is part of the
contract; the drop counts are printed.

With ``--throughput-s S`` it then measures application throughput: an LCEL chain traced by obs
with ``configure()`` defaults, run for ``S`` seconds with no evaluation configured and with an
evaluator that takes 500 ms on every trace (sample rate 1), and with one that returns at once
(the pipeline's own cost), alternated over ``--rounds`` rounds; the medians of runs per second
are compared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable

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


class _WaitingEvaluator(BaseEvaluator):
    """An evaluator that only waits (a remote judge's latency, no CPU)."""

    default_name = "waiting"
    base_version = "1"

    def __init__(self, seconds: float) -> None:
        super().__init__(threshold=0.5)
        self.seconds = seconds

    def _evaluate(self, sample: EvalSample) -> EvalResult:
        time.sleep(self.seconds)
        return self._result(score=1.0, explanation="fine")


def _runs_per_second(run: Callable[[], object], seconds: float) -> float:
    for _ in range(20):
        run()
    count = 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        run()
        count += 1
    return count / elapsed


def _throughput(seconds: float, rounds: int) -> None:
    import obs_core
    from _workloads import WORKLOADS
    from obs_langchain import ObsCallbackHandler

    # The instant evaluator separates the pipeline's own cost (finished-run records for every
    # run, grouping, scrubbing each sample) from the evaluator's latency.
    delays = {"none": None, "instant evaluator": 0.0, "500 ms evaluator": 0.5}
    rates: dict[str, list[float]] = {label: [] for label in delays}
    dropped: dict[str, int] = {}
    for _ in range(rounds):
        for label in rates:
            with tempfile.TemporaryDirectory() as data_dir:
                os.environ["OBS_DATA_DIR"] = data_dir
                delay = delays[label]
                evaluation = (EvaluationSettings(evaluators=[_WaitingEvaluator(delay)],
                                                 sample_rate=1.0)
                              if delay is not None else None)
                before = dict(snapshot()["dropped"])
                obs_core.configure(evaluation=evaluation)
                run = WORKLOADS["lc-lcel"].build([ObsCallbackHandler()])
                rates[label].append(_runs_per_second(run, seconds))
                obs_core.shutdown(timeout_s=1.0)
                for key, value in snapshot()["dropped"].items():
                    dropped[key] = dropped.get(key, 0) + value - before.get(key, 0)
    none = statistics.median(rates["none"])
    instant = statistics.median(rates["instant evaluator"])
    slow = statistics.median(rates["500 ms evaluator"])
    print(f"\napplication throughput, lc-lcel with configure() defaults, {rounds} x {seconds:g} s each")
    print(f"{'evaluation':<20}{'runs/s (median)':>16}{'rounds':>30}")
    for label, values in rates.items():
        print(f"{label:<20}{statistics.median(values):>16.0f}   "
              f"{', '.join(f'{v:.0f}' for v in values):>27}")
    print(f"500 ms evaluator / none: {slow / none:.2f}; instant evaluator / none: "
          f"{instant / none:.2f}; 500 ms / instant: {slow / instant:.2f}")
    print(f"dropped (counted): {dict(sorted(dropped.items()))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20_000, help="traces to hand over")
    parser.add_argument("--throughput-s", type=float, default=0.0,
                        help="seconds per throughput measurement (0: skip)")
    parser.add_argument("--rounds", type=int, default=3, help="throughput rounds")
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
    if args.throughput_s > 0:
        _throughput(args.throughput_s, args.rounds)


if __name__ == "__main__":
    main()
