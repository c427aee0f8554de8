"""The alert rules as a Prometheus rules file."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from obs_core.alerts import (
    AlertsConfig,
    ErrorRateRule,
    LatencyRule,
    SpendBudgetRule,
    default_rules,
    prom_duration,
    prometheus_rules,
    prometheus_rules_yaml,
)
from obs_core.cli import main

needs_promtool = pytest.mark.skipif(shutil.which("promtool") is None,
                                    reason="promtool not on PATH (run .ci/prometheus.sh)")


def promtool_check(path: Path) -> subprocess.CompletedProcess[str]:
    promtool = shutil.which("promtool")
    assert promtool is not None
    return subprocess.run([promtool, "check", "rules", str(path)], capture_output=True,
                          text=True, timeout=60, check=False)


@pytest.mark.parametrize(("seconds", "text"), [(300, "5m"), (86_400, "1d"), (90, "90s"),
                                               (3600, "1h"), (0.25, "250ms")])
def test_durations_use_prometheus_units(seconds: float, text: str) -> None:
    assert prom_duration(seconds) == text


def test_each_default_rule_becomes_one_prometheus_alert() -> None:
    rules = prometheus_rules(default_rules())["groups"][0]["rules"]
    assert [r["alert"] for r in rules] == [r.name for r in default_rules()]
    latency = rules[0]["expr"]
    assert latency.startswith("histogram_quantile(0.99, sum by (le) "
                              "(rate(gen_ai_client_operation_duration_seconds_bucket[5m]))) > 2")


def test_rule_filters_become_label_matchers() -> None:
    (rule,) = prometheus_rules([ErrorRateRule(name="e", kinds=frozenset({"llm", "tool"}))])[
        "groups"][0]["rules"]
    assert 'obs_runs_total{obs_span_kind=~"llm|tool"}' in rule["expr"]


@pytest.mark.prometheus
@needs_promtool
@pytest.mark.parametrize("rules", [
    default_rules(),
    [SpendBudgetRule(name="tokens", budget_tokens=2_000_000, budget_usd=5),
     LatencyRule(name="chat", operations=frozenset({"chat", "text_completion"}), quantile=0.95)],
], ids=["defaults", "custom"])
def test_generated_file_passes_promtool(rules: list[Any], tmp_path: Path) -> None:
    path = tmp_path / "rules.yml"
    path.write_text(prometheus_rules_yaml(rules))
    result = promtool_check(path)
    assert result.returncode == 0, result.stdout + result.stderr
    expected = len(prometheus_rules(rules)["groups"][0]["rules"])
    assert f"SUCCESS: {expected} rules found" in result.stdout


def test_obs_rules_command_reads_a_json_configuration(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "alerts.json"
    config.write_text(json.dumps({"rules": [
        {"type": "error_rate", "name": "Errors", "threshold": 0.2, "window_s": 600},
        {"type": "drift", "name": "Drift"},
    ]}))
    assert main(["rules", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert 'alert: "Errors"' in out
    assert "> 0.2" in out
    assert "[10m]" in out
    assert 'alert: "Drift"' in out


def test_obs_rules_rejects_an_invalid_configuration(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "alerts.json"
    config.write_text(json.dumps({"rules": [{"type": "spend_budget", "name": "b"}]}))
    assert main(["rules", "--config", str(config)]) == 1
    assert "budget_usd" in capsys.readouterr().err


def test_configuration_picks_the_rule_model_by_type() -> None:
    config = AlertsConfig.model_validate({"rules": [
        {"type": "latency", "name": "l", "threshold_s": 1.5},
        {"type": "evaluation_regression", "name": "r", "max_drop": 0.05},
    ]})
    assert [type(r).__name__ for r in config.rules] == ["LatencyRule", "EvaluationRegressionRule"]
