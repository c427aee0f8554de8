"""``obs eval-worker``: evaluate traces that applications queued in PostgreSQL.

Run as many as the judge allows; they claim disjoint jobs (``FOR UPDATE SKIP LOCKED``). Results
go to the trace store file (``--db``) and to whatever OpenTelemetry providers the process has.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from typing import TYPE_CHECKING, Any

from obs_core.cli._common import CliError, Subparsers, add_db_option, trace_store_path

if TYPE_CHECKING:
    from obs_core.evals.base import Evaluator

OFFLINE_EVALUATORS = ("groundedness", "relevance", "safety", "conciseness",
                      "logprob_confidence", "semantic_consistency")
JUDGE_EVALUATORS = ("groundedness_judge", "llm_judge")


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "eval-worker",
        help="evaluate traces queued in PostgreSQL",
        description="Claim evaluation jobs from a PostgreSQL queue table, run the evaluators "
        "they name, and record the results. Start several to share the load.",
    )
    parser.add_argument("--dsn", required=True, help="PostgreSQL connection string or URL")
    parser.add_argument("--schema", default=None, help="schema of the queue table")
    parser.add_argument("--table", default="obs_eval_jobs", help="queue table (default: %(default)s)")
    parser.add_argument("--evaluator", action="append", dest="evaluators", metavar="NAME",
                        choices=[*OFFLINE_EVALUATORS, *JUDGE_EVALUATORS],
                        help="evaluator this worker can run (repeatable; default: every offline "
                        "one, plus the judge ones when a judge is configured)")
    parser.add_argument("--judge-base-url", metavar="URL",
                        help="OpenAI-compatible endpoint of the judge model")
    parser.add_argument("--judge-model", metavar="MODEL", help="judge model name")
    parser.add_argument("--judge-api-key-env", metavar="VAR", default="OPENAI_API_KEY",
                        help="environment variable holding the judge's API key")
    parser.add_argument("--rubric", help="rubric of the llm_judge evaluator")
    add_db_option(parser)
    parser.add_argument("--workers", type=int, default=1, help="claiming threads (default: 1)")
    parser.add_argument("--batch", type=int, default=10, help="jobs per claim (default: 10)")
    parser.add_argument("--poll", type=float, default=1.0, metavar="SECONDS",
                        help="wait between claims when the queue is empty (default: 1)")
    parser.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS",
                        help="per-evaluation timeout (default: 60)")
    parser.add_argument("--once", action="store_true",
                        help="process what is queued now, then exit")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from obs_core.evals.pipeline import (
        EvaluationSettings,
        PostgresEvalQueue,
        QueueWorker,
        build_runner,
    )

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if args.workers < 1 or args.batch < 1:
        raise CliError("--workers and --batch must be at least 1", exit_code=2)
    evaluators = build_evaluators(args)
    try:
        queue = PostgresEvalQueue(args.dsn, table=args.table, schema=args.schema)
        queue.create()
    except (ImportError, ValueError, ConnectionError) as exc:
        raise CliError(str(exc)) from exc
    runner = build_runner(
        EvaluationSettings(evaluators=evaluators, timeout_s=args.timeout),
        trace_store_path=trace_store_path(args),
    )
    workers = [QueueWorker(queue, runner, batch=args.batch, poll_s=args.poll)
               for _ in range(args.workers)]
    try:
        if args.once:
            for worker in workers:
                while worker.run_once():
                    pass
        else:
            _serve(workers)
    finally:
        runner.close()
    print(f"evaluated {sum(w.processed for w in workers)} queued traces")
    return 0


def _serve(workers: list[Any]) -> None:
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    threads = [threading.Thread(target=w.run, args=(stop,), name=f"obs-eval-worker-{i}")
               for i, w in enumerate(workers)]
    for thread in threads:
        thread.start()
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        stop.set()
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        signal.signal(signal.SIGTERM, previous)


def build_evaluators(args: argparse.Namespace) -> list[Evaluator]:
    """The evaluators named on the command line (or the defaults), judges built from flags."""
    from obs_core import evals
    from obs_core.evals.judge import JudgeGroundedness, LLMJudge, OpenAIJudgeModel

    judge = None
    if args.judge_base_url or args.judge_model:
        if not (args.judge_base_url and args.judge_model):
            raise CliError("a judge needs both --judge-base-url and --judge-model", exit_code=2)
        judge = OpenAIJudgeModel(base_url=args.judge_base_url, model=args.judge_model,
                                 api_key=os.environ.get(args.judge_api_key_env),
                                 timeout_s=args.timeout)
    names: list[str] = args.evaluators or [
        *OFFLINE_EVALUATORS, *(("groundedness_judge",) if judge else ()),
        *(("llm_judge",) if judge and args.rubric else ()),
    ]
    offline: dict[str, Any] = {
        "groundedness": evals.Groundedness, "relevance": evals.Relevance,
        "safety": evals.Safety, "conciseness": evals.Conciseness,
        "logprob_confidence": evals.LogprobConfidence,
        "semantic_consistency": evals.SemanticConsistency,
    }
    built: list[Evaluator] = []
    for name in dict.fromkeys(names):
        if name in offline:
            built.append(offline[name]())
            continue
        if judge is None:
            raise CliError(f"{name} needs a judge (--judge-base-url and --judge-model)", exit_code=2)
        if name == "groundedness_judge":
            built.append(JudgeGroundedness(judge=judge))
        elif not args.rubric:
            raise CliError("llm_judge needs --rubric", exit_code=2)
        else:
            built.append(LLMJudge(judge=judge, rubric=args.rubric))
    return built
