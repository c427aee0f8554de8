"""Where alert events go. Sinks run on the evaluator thread, never on a callback thread."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from obs_core.alerts._events import AlertEvent
from obs_core.alerts._http import post_json

DEFAULT_PAGERDUTY_URL = "https://events.pagerduty.com/v2/enqueue"


class AlertSink(Protocol):
    """Delivers one event; may raise (the engine counts the failure and carries on)."""

    def send(self, event: AlertEvent) -> None: ...


class NullSink:
    """Accepts and discards: the default when nobody configured a destination."""

    def send(self, event: AlertEvent) -> None:
        return None


class LogSink:
    """Logs firing alerts at WARNING and resolutions at INFO on ``obs.alerts``."""

    def __init__(self, *, logger: logging.Logger | None = None) -> None:
        self._logger = logger or logging.getLogger("obs.alerts")

    def send(self, event: AlertEvent) -> None:
        level = logging.WARNING if event.status == "firing" else logging.INFO
        self._logger.log(level, "[%s] %s %s: %s", event.severity.upper(), event.rule,
                         event.status, event.summary)


class _HttpSink:
    def __init__(self, url: str, *, timeout_s: float = 5.0, retries: int = 2,
                 backoff_s: float = 0.5, headers: Mapping[str, str] | None = None,
                 sleep: Callable[[float], None] | None = None) -> None:
        self.url = url
        self._options: dict[str, Any] = {
            "timeout_s": timeout_s, "retries": retries, "backoff_s": backoff_s,
            "headers": dict(headers or {}),
        }
        if sleep is not None:
            self._options["sleep"] = sleep

    def _post(self, body: Any) -> None:
        post_json(self.url, body, **self._options)


class WebhookSink(_HttpSink):
    """POSTs the event itself as JSON (see :class:`AlertEvent` for the fields)."""

    def send(self, event: AlertEvent) -> None:
        self._post(event.model_dump(mode="json"))


class SlackSink(_HttpSink):
    """Slack-style incoming webhook: ``{"text": ...}``."""

    def send(self, event: AlertEvent) -> None:
        icon = ":rotating_light:" if event.status == "firing" else ":white_check_mark:"
        where = ", ".join(f"{k}={v}" for k, v in sorted(event.labels.items()))
        text = f"{icon} *{event.rule}* {event.status.upper()} ({event.severity})"
        if where:
            text += f" [{where}]"
        self._post({"text": f"{text}\n{event.summary}"})


_PD_SEVERITY = {"critical": "critical", "error": "error", "warning": "warning", "info": "info"}


class PagerDutySink(_HttpSink):
    """PagerDuty Events API v2: trigger on firing, resolve on resolution, same ``dedup_key``."""

    def __init__(self, routing_key: str, *, url: str = DEFAULT_PAGERDUTY_URL,
                 source: str = "obs", **options: Any) -> None:
        super().__init__(url, **options)
        self._routing_key = routing_key
        self._source = source

    def payload(self, event: AlertEvent) -> dict[str, Any]:
        body: dict[str, Any] = {
            "routing_key": self._routing_key,
            "event_action": "trigger" if event.status == "firing" else "resolve",
            "dedup_key": event.dedup_key,
            "payload": {
                "summary": f"{event.rule} {event.status}: {event.summary}"[:1024],
                "severity": _PD_SEVERITY[event.severity],
                "source": self._source,
                "component": "obs",
                "class": event.rule,
                "custom_details": {
                    "labels": event.labels, "value": event.value,
                    "threshold": event.threshold, "samples": event.samples,
                    "started_at": event.started_at, "description": event.description,
                    **event.details,
                },
            },
        }
        return body

    def send(self, event: AlertEvent) -> None:
        self._post(self.payload(event))
