"""How well does the offline groundedness evaluator catch hallucinations? HaluEval QA numbers.

Each HaluEval row gives a knowledge passage, a question, a right answer and a hallucinated one:
two samples, one grounded and one not. Reported per split (rows 0-249 were used to choose the
evaluator's constants, rows 250-499 were not, so they estimate held-out quality) and overall:

* AUROC: chance a grounded answer outscores a hallucinated one;
* flagged: share of hallucinated answers scored below the threshold (0.75);
* wrongly flagged: share of grounded answers scored below it;
* cost per sample, in CPU milliseconds (all threads) and wall milliseconds.

Usage::

    python benchmarks/eval_quality.py [--data PATH] [--local-embedder] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from obs_core.evals import EvalSample, Groundedness, LocalMiniLMEmbedder, measure_detection

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "halueval_qa_dev.jsonl"
TUNING_ROWS = 250


def _samples(rows: list[dict[str, Any]], answer_key: str) -> list[EvalSample]:
    return [
        EvalSample(input=row["question"], output=row[answer_key], contexts=[row["knowledge"]], metadata={"row": i})
        for i, row in enumerate(rows)
    ]


def _measure(evaluator: Groundedness, rows: list[dict[str, Any]]) -> dict[str, Any]:
    started, wall_started = time.process_time(), time.perf_counter()
    quality = measure_detection(
        evaluator,
        good=_samples(rows, "right_answer"),
        bad=_samples(rows, "hallucinated_answer"),
        threshold=evaluator.threshold,
    )
    samples = 2 * len(rows)
    cpu_ms = (time.process_time() - started) * 1000 / samples
    wall_ms = (time.perf_counter() - wall_started) * 1000 / samples
    return {**quality.model_dump(), "cpu_ms_per_sample": round(cpu_ms, 2), "wall_ms_per_sample": round(wall_ms, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="HaluEval QA jsonl file")
    parser.add_argument("--local-embedder", action="store_true", help="also run with the bundled all-MiniLM-L6-v2 model")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    if not args.data.exists():
        print(f"HaluEval file not found: {args.data}", file=sys.stderr)
        return 2
    with args.data.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    splits = {
        f"tuning rows 0-{TUNING_ROWS - 1}": rows[:TUNING_ROWS],
        f"held-out rows {TUNING_ROWS}-{len(rows) - 1}": rows[TUNING_ROWS:],
        f"all {len(rows)} rows": rows,
    }
    evaluators = {"offline (lexical)": Groundedness()}
    if args.local_embedder:
        if not LocalMiniLMEmbedder.available():
            print("--local-embedder needs: pip install 'obs-core[local-embeddings]'", file=sys.stderr)
            return 2
        evaluators["offline + all-MiniLM-L6-v2"] = Groundedness(embedder=LocalMiniLMEmbedder())
    report = [
        {**_measure(evaluator, split_rows), "evaluator": label, "split": split}
        for label, evaluator in evaluators.items()
        for split, split_rows in splits.items()
        if split_rows
    ]
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"HaluEval QA groundedness, threshold {report[0]['threshold']} ({args.data.name})")
    print(f"{'evaluator':<28} {'split':<24} {'AUROC':>6} {'flagged':>8} {'wrongly':>8} {'cpu ms':>8} {'wall ms':>8}")
    for line in report:
        print(
            f"{line['evaluator']:<28} {line['split']:<24} {line['auroc']:>6.3f} {line['flagged']:>8.1%}"
            f" {line['wrongly_flagged']:>8.1%} {line['cpu_ms_per_sample']:>8.2f} {line['wall_ms_per_sample']:>8.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
