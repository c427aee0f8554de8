"""The generated Grafana dashboard: well-formed, and every query names a real metric."""

from __future__ import annotations

import json
import re

import pytest

from obs_core.cli import main
from obs_core.metrics import grafana_dashboard

PROMQL_WORDS = {
    "sum", "max", "min", "avg", "count", "rate", "increase", "irate", "histogram_quantile",
    "clamp_min", "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or",
    "unless", "offset", "le", "bool",
}


def metric_names(expr: str) -> set[str]:
    """Series names in a PromQL expression: identifiers that are not functions, keywords,
    grouping labels, label matchers or range/template parts."""
    expr = re.sub(r"\{[^}]*\}", "", expr)                      # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)                     # ranges
    expr = re.sub(r"(?<![\w.])\d+(\.\d+)?(e[-+]?\d+)?", "", expr)   # numbers, 1e-9 included
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    names = set()
    for match in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr):
        word = match.group(0)
        following = expr[match.end():].lstrip()
        if word in PROMQL_WORDS or following.startswith("("):
            continue
        names.add(word)
    return names


def test_dashboard_has_the_grafana_model_basics() -> None:
    board = json.loads(json.dumps(grafana_dashboard()))
    assert board["title"]
    assert board["uid"]
    assert isinstance(board["schemaVersion"], int)
    assert board["templating"]["list"][0]["type"] == "datasource"
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in board["panels"]:
        assert set(panel["gridPos"]) == {"h", "w", "x", "y"}
        assert panel["type"] == "timeseries"
        assert panel["targets"], panel["title"]
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids))


def test_dashboard_covers_the_required_views() -> None:
    titles = " | ".join(p["title"].lower() for p in grafana_dashboard()["panels"])
    for topic in ("spend per day", "latency", "error rate", "hallucination rate", "agent steps",
                  "agent limit hits", "tool latency", "drift", "self-health"):
        assert topic in titles, topic


def test_latency_panel_takes_p50_p95_p99_from_the_duration_buckets() -> None:
    panel = next(p for p in grafana_dashboard()["panels"] if p["title"] == "Model call latency")
    exprs = [t["expr"] for t in panel["targets"]]
    assert [e.split(",")[0] for e in exprs] == [
        "histogram_quantile(0.5", "histogram_quantile(0.95", "histogram_quantile(0.99"]
    assert all("gen_ai_client_operation_duration_seconds_bucket[" in e for e in exprs)


def test_every_metric_in_a_query_is_rendered_by_the_exporter(exposed_names: set[str]) -> None:
    referenced: set[str] = set()
    for panel in grafana_dashboard()["panels"]:
        for target in panel["targets"]:
            referenced |= metric_names(target["expr"])
    assert len(referenced) >= 15
    assert referenced <= exposed_names, referenced - exposed_names


def test_metric_name_extraction_ignores_labels_and_functions() -> None:
    expr = ('histogram_quantile(0.9, sum by (le, gen_ai_request_model) '
            '(rate(foo_bucket{a="b"}[5m]))) / clamp_min(bar_total, 1e-9)')
    assert metric_names(expr) == {"foo_bucket", "bar_total"}


def test_obs_dashboard_prints_the_same_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dashboard", "--uid", "x1"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out)["uid"] == "x1"
