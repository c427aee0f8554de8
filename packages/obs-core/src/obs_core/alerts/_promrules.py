"""The alert rules as a Prometheus alerting-rules file over the metrics obs exports.

The in-process engine and Prometheus judge the same conditions; the one difference is the
evaluator-regression rule, which Prometheus cannot order pipeline versions for: there the recent
mean of each version is compared with the mean of all versions over the baseline window, shifted
back by the recent window.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from obs_core import semconv as sc
from obs_core.alerts import _yaml
from obs_core.alerts._rules import (
    AgentLimitRateRule,
    AlertRule,
    DriftRule,
    ErrorRateRule,
    EvaluationRegressionRule,
    HallucinationRateRule,
    LatencyRule,
    SpendBudgetRule,
)
from obs_core.metrics import (
    AGENT_LIMIT_HITS,
    COST,
    DRIFT_DETECTED,
    ERRORS,
    EVALUATION_SCORE,
    HALLUCINATION_CHECKS,
    OPERATION_DURATION,
    RUNS,
    TOKEN_USAGE,
    prometheus_label,
)


def prom_duration(seconds: float) -> str:
    """``300`` → ``5m``; whole days, hours, minutes or seconds, else milliseconds."""
    ms = round(seconds * 1000)
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms >= size and ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{max(ms, 1)}ms"


def _matcher(label: str, values: Iterable[str] | None, extra: str = "") -> str:
    parts = [extra] if extra else []
    if values is not None:
        pattern = "|".join(sorted(_escape_regex(v) for v in values))
        parts.append(f'{prometheus_label(label)}=~"{pattern}"')
    return "{" + ",".join(parts) + "}" if parts else ""


def _escape_regex(value: str) -> str:
    special = set(r".^$*+?()[]{}|\\")
    escaped = "".join("\\\\" + c if c in special else c for c in value)
    return escaped.replace('"', '\\"')


def _min_samples(series: str, window: str, n: int) -> str:
    return f" and sum(increase({series}[{window}])) >= {n}" if n > 0 else ""


def _exprs(rule: AlertRule) -> list[tuple[str, dict[str, str]]]:
    w = prom_duration(rule.window_s)
    if isinstance(rule, LatencyRule):
        sel = _matcher(sc.GEN_AI_OPERATION_NAME, rule.operations)
        bucket = OPERATION_DURATION.series("bucket") + sel
        count = OPERATION_DURATION.series("count") + sel
        return [(f"histogram_quantile({rule.quantile:g}, sum by (le) (rate({bucket}[{w}])))"
                 f" > {rule.threshold_s:g}" + _min_samples(count, w, rule.min_samples), {})]
    if isinstance(rule, ErrorRateRule):
        sel = _matcher(sc.OBS_SPAN_KIND, rule.kinds)
        runs = RUNS.series() + sel
        return [(f"(sum(rate({ERRORS.series()}{sel}[{w}])) / sum(rate({runs}[{w}])))"
                 f" > {rule.threshold:g}" + _min_samples(runs, w, rule.min_samples), {})]
    if isinstance(rule, HallucinationRateRule):
        checks = HALLUCINATION_CHECKS.series()
        flagged = checks + "{" + prometheus_label(sc.OBS_EVALUATION_HALLUCINATION) + '="true"}'
        return [(f"(sum(rate({flagged}[{w}])) / sum(rate({checks}[{w}])))"
                 f" > {rule.threshold:g}" + _min_samples(checks, w, rule.min_samples), {})]
    if isinstance(rule, AgentLimitRateRule):
        agents = RUNS.series() + "{" + prometheus_label(sc.OBS_SPAN_KIND) + '="agent"}'
        return [(f"(sum(rate({AGENT_LIMIT_HITS.series()}[{w}])) / sum(rate({agents}[{w}])))"
                 f" > {rule.threshold:g}" + _min_samples(agents, w, rule.min_samples), {})]
    if isinstance(rule, SpendBudgetRule):
        out = []
        if rule.budget_usd is not None:
            out.append((f"sum(increase({COST.series()}[{w}])) > {rule.budget_usd:g}",
                        {"budget": "usd"}))
        if rule.budget_tokens is not None:
            out.append((f"sum(increase({TOKEN_USAGE.series('sum')}[{w}])) > "
                        f"{rule.budget_tokens}", {"budget": "tokens"}))
        return out
    if isinstance(rule, DriftRule):
        by = f"{prometheus_label(sc.GEN_AI_DATA_SOURCE_ID)}, {prometheus_label(sc.OBS_DRIFT_SIGNAL)}"
        sel = _matcher(sc.OBS_DRIFT_SIGNAL, rule.signals)
        return [(f"max by ({by}) ({DRIFT_DETECTED.series()}{sel}) > 0", {})]
    if isinstance(rule, EvaluationRegressionRule):
        name = prometheus_label(sc.GEN_AI_EVALUATION_NAME)
        version = prometheus_label(sc.OBS_PIPELINE_VERSION)
        sel = _matcher(sc.GEN_AI_EVALUATION_NAME, rule.evaluators)
        total, count = EVALUATION_SCORE.series("sum") + sel, EVALUATION_SCORE.series("count") + sel
        base = prom_duration(rule.baseline_window_s)
        recent = (f"(sum by ({name}, {version}) (increase({total}[{w}])) / "
                  f"sum by ({name}, {version}) (increase({count}[{w}])))")
        baseline = (f"(sum by ({name}) (increase({total}[{base}] offset {w})) / "
                    f"sum by ({name}) (increase({count}[{base}] offset {w})))")
        enough = (f" and on ({name}, {version}) sum by ({name}, {version}) "
                  f"(increase({count}[{w}])) >= {rule.min_samples}")
        return [(f"{recent} < on ({name}) group_left() ({baseline} - {rule.max_drop:g})"
                 + enough, {})]
    raise TypeError(f"no Prometheus form for rule type {type(rule).__name__}")


def prometheus_rules(rules: Sequence[AlertRule], *, group: str = "obs",
                     interval_s: float = 15.0) -> dict[str, Any]:
    """The rules file as a mapping (``{"groups": [...]}``)."""
    entries: list[dict[str, Any]] = []
    for rule in rules:
        if not rule.enabled:
            continue
        for expr, labels in _exprs(rule):
            entry: dict[str, Any] = {
                "alert": rule.name,
                "expr": expr,
                "labels": {"severity": rule.severity, "obs_rule_type": rule.type, **labels},
                "annotations": {
                    "summary": _summary(rule),
                    "description": rule.description or _summary(rule),
                },
            }
            entries.append(entry)
    return {"groups": [{"name": group, "interval": prom_duration(interval_s),
                        "rules": entries}]}


def prometheus_rules_yaml(rules: Sequence[AlertRule], *, group: str = "obs",
                          interval_s: float = 15.0) -> str:
    header = "# Prometheus alerting rules generated by `obs rules`; load with rule_files.\n"
    return header + _yaml.dump(prometheus_rules(rules, group=group, interval_s=interval_s))


def _summary(rule: AlertRule) -> str:
    w = prom_duration(rule.window_s)
    if isinstance(rule, LatencyRule):
        return (f"p{rule.quantile * 100:g} model latency above {rule.threshold_s:g}s "
                f"over {w}: {{{{ $value | humanizeDuration }}}}")
    if isinstance(rule, ErrorRateRule):
        return f"error rate above {rule.threshold:.1%} over {w}: {{{{ $value | humanizePercentage }}}}"
    if isinstance(rule, HallucinationRateRule):
        return (f"hallucination rate above {rule.threshold:.1%} over {w}: "
                f"{{{{ $value | humanizePercentage }}}}")
    if isinstance(rule, AgentLimitRateRule):
        return (f"agent limit-hit rate above {rule.threshold:.1%} over {w}: "
                f"{{{{ $value | humanizePercentage }}}}")
    if isinstance(rule, SpendBudgetRule):
        return f"model spend over budget in the last {w}: {{{{ $value }}}}"
    if isinstance(rule, DriftRule):
        return "retrieval drift on {{ $labels.gen_ai_data_source_id }} ({{ $labels.obs_drift_signal }})"
    return (f"{{{{ $labels.gen_ai_evaluation_name }}}} fell by more than {rule.max_drop:g} for "
            f"pipeline version {{{{ $labels.obs_pipeline_version }}}}: mean {{{{ $value }}}}")
