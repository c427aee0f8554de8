"""The Grafana dashboard, generated from the same metric specs the exporter renders."""

from __future__ import annotations

from typing import Any

from obs_core.metrics import _names as n

_DS = {"type": "prometheus", "uid": "${datasource}"}
_RI = "$__rate_interval"


def _q(metric: n.MetricSpec, quantile: float, by: str = "le") -> str:
    return (
        f"histogram_quantile({quantile}, sum by ({by}) "
        f"(rate({metric.series('bucket')}[{_RI}])))"
    )


def _ratio(numerator: str, denominator: str) -> str:
    return f"({numerator}) / clamp_min({denominator}, 1e-9)"


def _panels() -> list[tuple[str, str, str, list[tuple[str, str]]]]:
    """(title, unit, description, [(expr, legend)]) in display order."""
    cost = n.COST.series()
    tokens = n.TOKEN_USAGE.series("sum")
    dur = n.OPERATION_DURATION
    hall = n.HALLUCINATION_CHECKS.series()
    steps = n.AGENT_STEPS
    return [
        ("Model spend per day (USD)", "currencyUSD", "Rolling 24 h spend by model.",
         [(f"sum by (gen_ai_request_model) (increase({cost}[1d]))", "{{gen_ai_request_model}}")]),
        ("Tokens per day", "short", "Rolling 24 h token usage by token type.",
         [(f"sum by (gen_ai_token_type) (increase({tokens}[1d]))", "{{gen_ai_token_type}}")]),
        ("Model call latency", "s", "p50 / p95 / p99 of gen_ai.client.operation.duration.",
         [(_q(dur, 0.5), "p50"), (_q(dur, 0.95), "p95"), (_q(dur, 0.99), "p99")]),
        ("Time to first chunk (p95)", "s", "Streaming responsiveness by model.",
         [(_q(n.TIME_TO_FIRST_CHUNK, 0.95, "le, gen_ai_request_model"),
           "{{gen_ai_request_model}}")]),
        ("Error rate", "percentunit", "Errored runs over all runs, by span kind.",
         [(_ratio(f"sum by (obs_span_kind) (rate({n.ERRORS.series()}[{_RI}]))",
                  f"sum by (obs_span_kind) (rate({n.RUNS.series()}[{_RI}]))"),
           "{{obs_span_kind}}")]),
        ("Hallucination rate", "percentunit", "Flagged answers over hallucination checks.",
         [(_ratio(f"sum by (obs_pipeline_version) "
                  f"(rate({hall}{{obs_evaluation_hallucination=\"true\"}}[{_RI}]))",
                  f"sum by (obs_pipeline_version) (rate({hall}[{_RI}]))"),
           "{{obs_pipeline_version}}")]),
        ("Evaluation scores", "short", "Mean evaluator score by evaluator and pipeline version.",
         [(_ratio(f"sum by (gen_ai_evaluation_name, obs_pipeline_version) "
                  f"(rate({n.EVALUATION_SCORE.series('sum')}[{_RI}]))",
                  f"sum by (gen_ai_evaluation_name, obs_pipeline_version) "
                  f"(rate({n.EVALUATION_SCORE.series('count')}[{_RI}]))"),
           "{{gen_ai_evaluation_name}} {{obs_pipeline_version}}")]),
        ("Agent steps per run", "short", "p50 / p95 model calls per agent run.",
         [(_q(steps, 0.5), "p50"), (_q(steps, 0.95), "p95")]),
        ("Agent limit hits", "short", "Agent runs stopped by their step limit, per second.",
         [(f"sum by (gen_ai_agent_name) (rate({n.AGENT_LIMIT_HITS.series()}[{_RI}]))",
           "{{gen_ai_agent_name}}")]),
        ("Tool latency (p95)", "s", "By tool.",
         [(_q(n.TOOL_DURATION, 0.95, "le, gen_ai_tool_name"), "{{gen_ai_tool_name}}")]),
        ("Tool calls", "reqps", "Calls per second by tool and error type.",
         [(f"sum by (gen_ai_tool_name, error_type) (rate({n.TOOL_CALLS.series()}[{_RI}]))",
           "{{gen_ai_tool_name}} {{error_type}}")]),
        ("Retrieval similarity (p50)", "short", "Median document score by retriever.",
         [(_q(n.RETRIEVAL_SCORE, 0.5, "le, gen_ai_data_source_id"),
           "{{gen_ai_data_source_id}}")]),
        ("Drift", "short", "PSI, KS distance and the detected flag per retriever and signal.",
         [(f"max by (gen_ai_data_source_id, obs_drift_signal) ({n.DRIFT_PSI.series()})",
           "psi {{gen_ai_data_source_id}} {{obs_drift_signal}}"),
          (f"max by (gen_ai_data_source_id, obs_drift_signal) ({n.DRIFT_KS.series()})",
           "ks {{gen_ai_data_source_id}} {{obs_drift_signal}}"),
          (f"max by (gen_ai_data_source_id, obs_drift_signal) ({n.DRIFT_DETECTED.series()})",
           "detected {{gen_ai_data_source_id}} {{obs_drift_signal}}")]),
        ("Alerts firing", "short", "In-process alert engine, by rule.",
         [(f"sum by (obs_alert_rule) ({n.ALERTS_FIRING.series()})", "{{obs_alert_rule}}")]),
        ("obs self-health", "short", "Contained internal errors, drops and orphaned spans.",
         [(f"sum by (obs_where) (rate({n.SELF_INTERNAL_ERRORS.series()}[{_RI}]))",
           "error {{obs_where}}"),
          (f"sum by (obs_reason) (rate({n.SELF_DROPPED.series()}[{_RI}]))",
           "dropped {{obs_reason}}"),
          (f"sum(rate({n.SELF_ORPHANED.series()}[{_RI}]))", "orphaned"),
          (f"max by (obs_gauge) ({n.SELF_GAUGE.series()})", "{{obs_gauge}}")]),
    ]


def grafana_dashboard(*, title: str = "obs: LLM application health",
                      uid: str = "obs-llm-health") -> dict[str, Any]:
    """A Grafana dashboard model (JSON-serialisable) over the metrics obs exports to Prometheus.

    The datasource is a template variable, so the file imports into any Grafana with a
    Prometheus datasource.
    """
    panels: list[dict[str, Any]] = []
    for index, (panel_title, unit, description, queries) in enumerate(_panels()):
        panels.append({
            "id": index + 1,
            "type": "timeseries",
            "title": panel_title,
            "description": description,
            "datasource": _DS,
            "gridPos": {"h": 8, "w": 12, "x": (index % 2) * 12, "y": (index // 2) * 8},
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
            "options": {"legend": {"displayMode": "list", "placement": "bottom"}},
            "targets": [
                {"refId": chr(ord("A") + i), "datasource": _DS, "expr": expr,
                 "legendFormat": legend}
                for i, (expr, legend) in enumerate(queries)
            ],
        })
    return {
        "uid": uid,
        "title": title,
        "tags": ["obs", "llm", "genai"],
        "timezone": "browser",
        "editable": True,
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": [{
            "name": "datasource", "label": "Prometheus", "type": "datasource",
            "query": "prometheus", "current": {}, "hide": 0,
        }]},
        "annotations": {"list": []},
        "panels": panels,
    }
