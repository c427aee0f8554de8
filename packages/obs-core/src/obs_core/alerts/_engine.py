"""The in-process alert engine: windows filled on the hot path, rules judged off it.

Span and evaluation listeners only append to bounded windows. A background thread (or the caller,
through :meth:`AlertEngine.evaluate`) runs drift checks and rules, keeps one state per rule and
label set, and sends an event when an alert starts firing and when it resolves, never in between.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from opentelemetry.metrics import CallbackOptions, MeterProvider, Observation

from obs_core import _selfmetrics
from obs_core import semconv as sc
from obs_core._guard import guard
from obs_core.alerts._events import AlertEvent, dedup_key
from obs_core.alerts._observations import Observations
from obs_core.alerts._rules import AlertRule, Finding, default_rules
from obs_core.alerts._sinks import AlertSink, LogSink
from obs_core.drift import DriftDetector, DriftResult
from obs_core.metrics import ALERTS_FIRING, METER_NAME, EvaluationFacts, SpanFacts

logger = logging.getLogger("obs.alerts")

_StateKey = tuple[str, tuple[tuple[str, str], ...]]


@dataclass(kw_only=True)
class _Active:
    started_at: float
    finding: Finding


class AlertEngine:
    """Evaluates alert rules over sliding windows of finished spans, evaluation results and
    drift results, and notifies sinks of transitions.

    Feed it with ``metrics_processor.add_listener(engine)`` and
    ``evaluation_metrics.add_listener(engine)``; call :meth:`start` for the background loop or
    :meth:`evaluate` yourself (tests pass a fake ``clock``).
    """

    def __init__(
        self,
        rules: Iterable[AlertRule] | None = None,
        *,
        sinks: Sequence[AlertSink] | None = None,
        clock: Callable[[], float] = time.time,
        interval_s: float = 15.0,
        max_samples: int = 10_000,
        resolution_s: float = 10.0,
    ) -> None:
        self.rules: tuple[AlertRule, ...] = tuple(r for r in (
            rules if rules is not None else default_rules()) if r.enabled)
        names = [r.name for r in self.rules]
        if len(names) != len(set(names)):
            raise ValueError("rule names must be unique")
        self._sinks: tuple[AlertSink, ...] = tuple(sinks) if sinks is not None else (LogSink(),)
        self._clock = clock
        self._interval = interval_s
        retention = max([r.retention_s for r in self.rules] + [resolution_s])
        self.observations = Observations(max_samples=max_samples, resolution_s=resolution_s,
                                         retention_s=retention + resolution_s)
        self._active: dict[_StateKey, _Active] = {}
        self._hooks: list[Callable[[], object]] = []
        self._eval_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.delivery: Counter[str] = Counter()
        """``sent`` / ``failed`` counts per sink class, for diagnostics and tests."""

    # --- inputs (hot path: bounded appends only) ----------------------------------------------
    def on_span_facts(self, facts: SpanFacts) -> None:
        self.observations.add_span(self._clock(), facts)

    def on_evaluation(self, facts: EvaluationFacts) -> None:
        self.observations.add_evaluation(self._clock(), facts)

    def on_drift(self, result: DriftResult) -> None:
        self.observations.add_drift(result)

    def watch_drift(self, detector: DriftDetector) -> None:
        """Run ``detector.check()`` before each evaluation and alert on its results."""
        detector.add_listener(self)
        self.add_hook(detector.check)

    def add_hook(self, hook: Callable[[], object]) -> None:
        """Something to run on the evaluator thread before the rules (e.g. a drift check)."""
        self._hooks.append(hook)

    # --- evaluation ---------------------------------------------------------------------------
    def evaluate(self) -> list[AlertEvent]:
        """Run hooks and rules once; deliver and return the transitions."""
        with self._eval_lock:
            for hook in self._hooks:
                with guard("alerts.hook"):
                    hook()
            now = self._clock()
            events: list[AlertEvent] = []
            for rule in self.rules:
                with guard("alerts.rule"):
                    events.extend(self._apply(rule, rule.check(self.observations, now), now))
            self.observations.prune(now)
        for event in events:
            self._deliver(event)
        return events

    def active(self) -> list[AlertEvent]:
        """Alerts firing now, as firing events."""
        now = self._clock()
        by_name = {r.name: r for r in self.rules}
        with self._eval_lock:
            items = list(self._active.items())
        return [self._event(by_name[name], a.finding, "firing", a.started_at, now)
                for (name, _), a in items]

    def _apply(self, rule: AlertRule, findings: list[Finding], now: float) -> list[AlertEvent]:
        events = []
        for finding in findings:
            key: _StateKey = (rule.name, tuple(sorted(finding.labels.items())))
            current = self._active.get(key)
            if finding.firing and current is None:
                self._active[key] = _Active(started_at=now, finding=finding)
                events.append(self._event(rule, finding, "firing", now, now))
            elif finding.firing and current is not None:
                current.finding = finding
            elif not finding.firing and current is not None:
                del self._active[key]
                events.append(self._event(rule, finding, "resolved", current.started_at, now))
        return events

    @staticmethod
    def _event(rule: AlertRule, f: Finding, status: str, started_at: float,
               now: float) -> AlertEvent:
        return AlertEvent.model_validate({
            "rule": rule.name, "status": status, "severity": rule.severity,
            "summary": f.summary, "labels": f.labels, "value": f.value,
            "threshold": f.threshold, "samples": f.samples, "started_at": started_at, "at": now,
            "dedup_key": dedup_key(rule.name, f.labels), "description": rule.description,
            "details": {"rule_type": rule.type, "window_s": rule.window_s},
        })

    def _deliver(self, event: AlertEvent) -> None:
        for sink in self._sinks:
            name = type(sink).__name__
            try:
                sink.send(event)
            except Exception as exc:  # noqa: BLE001 - a failing destination must not stop the others
                self.delivery[f"{name}.failed"] += 1
                _selfmetrics.count_drop("alert_notification_failed")
                logger.warning("alert %s (%s) not delivered by %s: %s", event.rule, event.status,
                               name, exc)
            else:
                self.delivery[f"{name}.sent"] += 1

    # --- background loop ----------------------------------------------------------------------
    def start(self) -> None:
        """Evaluate every ``interval_s`` on a daemon thread (idempotent)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="obs-alerts", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=timeout_s)
        self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            with guard("alerts.loop"):
                self.evaluate()

    # --- metrics ------------------------------------------------------------------------------
    def register_metrics(self, meter_provider: MeterProvider) -> None:
        """Expose ``obs.alerts.firing`` (alerts active per rule, 0 included)."""

        def observe(_: CallbackOptions) -> Iterable[Observation]:
            with self._eval_lock:
                counts = Counter(name for name, _ in self._active)
            return [Observation(counts.get(r.name, 0), {sc.OBS_ALERT_RULE: r.name})
                    for r in self.rules]

        meter_provider.get_meter(METER_NAME).create_observable_gauge(
            ALERTS_FIRING.name, [observe], unit=ALERTS_FIRING.unit,
            description=ALERTS_FIRING.description)
