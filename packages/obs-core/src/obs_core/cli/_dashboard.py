"""``obs dashboard``: a Grafana dashboard over the metrics obs exports."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from obs_core.cli._common import CliError, Subparsers


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "dashboard",
        help="print a Grafana dashboard (JSON) for obs's Prometheus metrics",
        description="Print a Grafana dashboard covering spend, latency, errors, hallucinations, "
                    "agents, tools, drift and obs's own health. Import it in Grafana and pick a "
                    "Prometheus datasource.",
    )
    parser.add_argument("--title", default="obs: LLM application health")
    parser.add_argument("--uid", default="obs-llm-health")
    parser.add_argument("-o", "--output", metavar="FILE", type=Path, default=None,
                        help="write to FILE instead of standard output")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from obs_core.metrics import grafana_dashboard

    text = json.dumps(grafana_dashboard(title=args.title, uid=args.uid), indent=2) + "\n"
    if args.output is not None:
        try:
            args.output.write_text(text)
        except OSError as exc:
            raise CliError(f"cannot write {args.output}: {exc}") from exc
    else:
        print(text, end="")
    return 0
