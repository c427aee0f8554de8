"""Alert rules as configuration: pydantic models with thresholds, windows and sample minimums.

Each rule reads the engine's windows and reports, per label set it could judge, whether its
condition holds. A rule that lacks data says nothing, so a quiet period never flips an alert.
"""

from __future__ import annotations

import itertools
import statistics
from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from obs_core.alerts import _observations as o
from obs_core.alerts._windows import SampleWindow, quantile

Severity = Literal["critical", "error", "warning", "info"]


@dataclass(frozen=True, kw_only=True)
class Finding:
    """One rule's verdict for one label set at one evaluation."""

    labels: dict[str, str] = field(default_factory=dict)
    firing: bool
    value: float
    threshold: float
    samples: int
    summary: str


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    """Unique; also the Prometheus ``alert`` name."""
    severity: Severity = "warning"
    window_s: float = Field(default=300.0, gt=0)
    """How far back the condition looks."""
    min_samples: int = Field(default=20, ge=0)
    """Below this many observations in the window the rule stays silent."""
    description: str | None = None
    enabled: bool = True

    @property
    def retention_s(self) -> float:
        return self.window_s

    def check(self, obs: o.Observations, now: float) -> list[Finding]:
        raise NotImplementedError


class LatencyRule(_Rule):
    """A latency quantile of model calls (``gen_ai.client.operation.duration``) too high."""

    type: Literal["latency"] = "latency"
    quantile: float = Field(default=0.99, gt=0, lt=1)
    threshold_s: float = Field(default=2.0, gt=0)
    operations: frozenset[str] | None = None
    """Only these ``gen_ai.operation.name`` values (e.g. ``chat``); ``None`` means all."""

    def check(self, obs: o.Observations, now: float) -> list[Finding]:
        values = obs.latency.since(now - self.window_s, tags=self.operations)
        if not values or len(values) < self.min_samples:
            return []
        q = quantile(values, self.quantile)
        pct = f"p{self.quantile * 100:g}"
        return [Finding(firing=q > self.threshold_s, value=q, threshold=self.threshold_s,
                        samples=len(values),
                        summary=f"{pct} model latency {q:.2f}s over {len(values)} calls "
                                f"(threshold {self.threshold_s:g}s)")]


class _RatioRule(_Rule):
    threshold: float = Field(ge=0, le=1)

    def _ratio(self, what: str, hits: float, total: float) -> list[Finding]:
        if total <= 0 or total < self.min_samples:
            return []
        rate = hits / total
        return [Finding(firing=rate > self.threshold, value=rate, threshold=self.threshold,
                        samples=int(total),
                        summary=f"{what} {rate:.1%} over {int(total)} (threshold "
                                f"{self.threshold:.1%})")]


class ErrorRateRule(_RatioRule):
    """Errored runs over all runs of the chosen kinds."""

    type: Literal["error_rate"] = "error_rate"
    threshold: float = Field(default=0.05, ge=0, le=1)
    kinds: frozenset[str] | None = None
    """``obs.span.kind`` values counted; ``None`` means every kind."""

    def check(self, obs: o.Observations, now: float) -> list[Finding]:
        totals = obs.counts.totals(now - self.window_s)
        runs = errors = 0.0
        for key, value in totals.items():
            if isinstance(key, tuple) and (self.kinds is None or key[1] in self.kinds):
                if key[0] == o.RUN:
                    runs += value
                elif key[0] == o.ERROR:
                    errors += value
        return self._ratio("error rate", errors, runs)


class HallucinationRateRule(_RatioRule):
    """Answers flagged by hallucination checks over all checked answers."""

    type: Literal["hallucination_rate"] = "hallucination_rate"
    threshold: float = Field(default=0.03, ge=0, le=1)
    window_s: float = Field(default=3600.0, gt=0)

    def check(self, obs: o.Observations, now: float) -> list[Finding]:
        totals = obs.counts.totals(now - self.window_s)
        return self._ratio("hallucination rate", totals.get(o.HALLUCINATION_FLAG, 0.0),
                           totals.get(o.HALLUCINATION_CHECK, 0.0))


class AgentLimitRateRule(_RatioRule):
    """Agent runs stopped by their step limit over all agent runs."""

    type: Literal["agent_limit_rate"] = "agent_limit_rate"
    threshold: float = Field(default=0.1, ge=0, le=1)
    min_samples: int = Field(default=10, ge=0)
    window_s: float = Field(default=900.0, gt=0)

    def check(self, obs: o.Observations, now: float) -> list[Finding]:
        totals = obs.counts.totals(now - self.window_s)
        return self._ratio("agent limit-hit rate", totals.get(o.AGENT_LIMIT, 0.0),
                           totals.get(o.AGENT_RUN, 0.0))


class SpendBudgetRule(_Rule):
    """Model spend over the window (a rolling day by default) above a budget."""

    type: Literal["spend_budget"] = "spend_budget"
    window_s: float = Field(default=86_400.0, gt=0)
    min_samples: int = Field(default=0, ge=0)
    budget_usd: float | None = Field(default=None, gt=0)
    budget_tokens: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _some_budget(self) -> SpendBudgetRule:
        if self.budget_usd is None and self.budget_tokens is None:
            raise ValueError("set budget_usd, budget_tokens or both")
        return self

    def check(self, obs: o.Observations, now: float) -> list[Finding]:
        totals = obs.counts.totals(now - self.window_s)
        findings = []
        if self.budget_usd is not None:
            spent = totals.get(o.COST_USD, 0.0)
            findings.append(Finding(
                labels={"budget": "usd"}, firing=spent > self.budget_usd, value=spent,
                threshold=self.budget_usd, samples=0,
                summary=f"spent ${spent:.2f} in the window (budget ${self.budget_usd:.2f})"))
        if self.budget_tokens is not None:
            used = totals.get(o.TOKENS, 0.0)
            findings.append(Finding(
                labels={"budget": "tokens"}, firing=used > self.budget_tokens, value=used,
                threshold=float(self.budget_tokens), samples=0,
                summary=f"used {int(used)} tokens in the window (budget {self.budget_tokens})"))
        return findings


class DriftRule(_Rule):
    """The drift detector's latest verdict per retriever (or embedding stream) and signal."""

    type: Literal["drift"] = "drift"
    min_samples: int = Field(default=0, ge=0)
    signals: frozenset[str] | None = None
    max_age_s: float = Field(default=3600.0, gt=0)
    """Results older than this are ignored (the stream went quiet)."""

    def check(self, obs: o.Observations, now: float) -> list[Finding]:
        findings = []
        for r in obs.drift_results():
            if self.signals is not None and r.signal not in self.signals:
                continue
            if now - r.checked_at > self.max_age_s or r.current_size < self.min_samples:
                continue
            findings.append(Finding(
                labels={"data_source": r.source, "signal": r.signal}, firing=r.detected,
                value=r.psi, threshold=0.0, samples=r.current_size, summary=r.summary))
        return findings


class EvaluationRegressionRule(_Rule):
    """A pipeline version whose recent evaluator scores fell below the previous version's.

    For each evaluator, versions are ordered by when their first score arrived. The newest
    scores of a version (``window_s``) are compared with the scores the version before it earned
    over ``baseline_window_s``; a mean drop larger than ``max_drop`` fires. A prompt change that
    degrades quality is therefore caught once ``min_samples`` results of the new version are in.
    """

    type: Literal["evaluation_regression"] = "evaluation_regression"
    window_s: float = Field(default=600.0, gt=0)
    baseline_window_s: float = Field(default=86_400.0, gt=0)
    min_samples: int = Field(default=10, ge=1)
    min_baseline_samples: int = Field(default=20, ge=1)
    max_drop: float = Field(default=0.1, gt=0)
    """Absolute drop of the mean score (scores are 0..1) that counts as a regression."""
    evaluators: frozenset[str] | None = None

    @property
    def retention_s(self) -> float:
        return max(self.window_s, self.baseline_window_s)

    def check(self, obs: o.Observations, now: float) -> list[Finding]:
        by_evaluator: dict[str, list[tuple[float, str, SampleWindow]]] = {}
        for name, version, first_seen, window in obs.score_series():
            if self.evaluators is None or name in self.evaluators:
                by_evaluator.setdefault(name, []).append((first_seen, version, window))
        findings = []
        for name, series in by_evaluator.items():
            series.sort(key=lambda item: item[0])
            for (_, prev_version, prev), (_, version, cur) in itertools.pairwise(series):
                recent = cur.since(now - self.window_s)
                baseline = prev.since(now - self.baseline_window_s)
                if len(recent) < self.min_samples or len(baseline) < self.min_baseline_samples:
                    continue
                before, after = statistics.fmean(baseline), statistics.fmean(recent)
                drop = before - after
                findings.append(Finding(
                    labels={"evaluator": name, "pipeline_version": version},
                    firing=drop > self.max_drop, value=after, threshold=before - self.max_drop,
                    samples=len(recent),
                    summary=(f"{name} mean {after:.3f} for pipeline version {version!r} vs "
                             f"{before:.3f} for {prev_version!r} (drop {drop:+.3f}, allowed "
                             f"{self.max_drop:g})")))
        return findings


AlertRule = Annotated[
    LatencyRule | ErrorRateRule | HallucinationRateRule | AgentLimitRateRule | SpendBudgetRule
    | DriftRule | EvaluationRegressionRule,
    Field(discriminator="type"),
]
"""Any rule; the ``type`` field picks the model when loading configuration."""


class AlertsConfig(BaseModel):
    """A rule set as stored in a JSON configuration file."""

    model_config = ConfigDict(extra="forbid")

    rules: list[AlertRule]
    evaluation_interval_s: float = Field(default=15.0, gt=0)

    @model_validator(mode="after")
    def _unique(self) -> AlertsConfig:
        names = [r.name for r in self.rules]
        if len(names) != len(set(names)):
            raise ValueError("rule names must be unique")
        return self


RULE_ADAPTER: TypeAdapter[AlertRule] = TypeAdapter(AlertRule)


def default_rules(*, daily_budget_usd: float = 100.0) -> list[AlertRule]:
    """The standard set: p99 latency > 2 s, hallucination rate > 3 %, daily spend over budget,
    error rate > 5 %, agent limit hits > 10 %, retrieval drift, and evaluator regressions per
    pipeline version within 10 minutes."""
    return [
        LatencyRule(name="ObsModelLatencyP99High", severity="warning"),
        HallucinationRateRule(name="ObsHallucinationRateHigh", severity="critical"),
        SpendBudgetRule(name="ObsDailySpendOverBudget", severity="warning",
                        budget_usd=daily_budget_usd),
        ErrorRateRule(name="ObsErrorRateHigh", severity="error"),
        AgentLimitRateRule(name="ObsAgentLimitHitsHigh", severity="warning"),
        DriftRule(name="ObsRetrievalDrift", severity="warning"),
        EvaluationRegressionRule(name="ObsEvaluationRegression", severity="critical"),
    ]
