"""``obs rules``: the alert rules as a Prometheus alerting-rules file."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from obs_core.cli._common import CliError, Subparsers


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "rules",
        help="print the alert rules as a Prometheus alerting-rules file",
        description="Print obs's alert rules (the defaults, or those of --config) as a "
                    "Prometheus alerting-rules YAML file, ready for rule_files.",
    )
    parser.add_argument("--config", metavar="FILE", type=Path, default=None,
                        help='JSON alerts configuration: {"rules": [...], '
                             '"evaluation_interval_s": 15}')
    parser.add_argument("--daily-budget-usd", metavar="USD", type=float, default=100.0,
                        help="spend budget of the default rules (default: 100)")
    parser.add_argument("--group", default="obs", help="rule group name (default: obs)")
    parser.add_argument("-o", "--output", metavar="FILE", type=Path, default=None,
                        help="write to FILE instead of standard output")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from obs_core.alerts import AlertsConfig, default_rules, prometheus_rules_yaml

    if args.config is not None:
        try:
            config = AlertsConfig.model_validate(json.loads(args.config.read_text()))
        except (OSError, ValueError, ValidationError) as exc:
            raise CliError(f"cannot read alerts configuration {args.config}: {exc}") from exc
        rules, interval = config.rules, config.evaluation_interval_s
    else:
        if args.daily_budget_usd <= 0:
            raise CliError("--daily-budget-usd must be positive")
        rules, interval = default_rules(daily_budget_usd=args.daily_budget_usd), 15.0
    text = prometheus_rules_yaml(rules, group=args.group, interval_s=interval)
    if args.output is not None:
        try:
            args.output.write_text(text)
        except OSError as exc:
            raise CliError(f"cannot write {args.output}: {exc}") from exc
    else:
        print(text, end="")
    return 0
