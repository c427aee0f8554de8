"""Alerts on LLM-application health, judged in process and exportable to Prometheus.

Wire-up::

    engine = AlertEngine(default_rules(daily_budget_usd=50), sinks=[LogSink(), SlackSink(url)])
    metrics_processor.add_listener(engine)     # spans: latency, errors, spend, agent limits
    evaluation_metrics.add_listener(engine)    # evaluations: hallucinations, regressions
    engine.watch_drift(drift_detector)         # drift checks run on the evaluator thread
    engine.start()

``prometheus_rules_yaml(rules)`` (or ``obs rules``) writes the same conditions as a Prometheus
alerting-rules file.
"""

from __future__ import annotations

from obs_core.alerts._engine import AlertEngine
from obs_core.alerts._events import AlertEvent, AlertStatus, dedup_key
from obs_core.alerts._http import DeliveryError, post_json
from obs_core.alerts._promrules import prom_duration, prometheus_rules, prometheus_rules_yaml
from obs_core.alerts._rules import (
    RULE_ADAPTER,
    AgentLimitRateRule,
    AlertRule,
    AlertsConfig,
    DriftRule,
    ErrorRateRule,
    EvaluationRegressionRule,
    Finding,
    HallucinationRateRule,
    LatencyRule,
    Severity,
    SpendBudgetRule,
    default_rules,
)
from obs_core.alerts._sinks import (
    DEFAULT_PAGERDUTY_URL,
    AlertSink,
    LogSink,
    NullSink,
    PagerDutySink,
    SlackSink,
    WebhookSink,
)

__all__ = [
    "DEFAULT_PAGERDUTY_URL",
    "RULE_ADAPTER",
    "AgentLimitRateRule",
    "AlertEngine",
    "AlertEvent",
    "AlertRule",
    "AlertSink",
    "AlertStatus",
    "AlertsConfig",
    "DeliveryError",
    "DriftRule",
    "ErrorRateRule",
    "EvaluationRegressionRule",
    "Finding",
    "HallucinationRateRule",
    "LatencyRule",
    "LogSink",
    "NullSink",
    "PagerDutySink",
    "Severity",
    "SlackSink",
    "SpendBudgetRule",
    "WebhookSink",
    "dedup_key",
    "default_rules",
    "post_json",
    "prom_duration",
    "prometheus_rules",
    "prometheus_rules_yaml",
]
