"""Notification sinks against a local HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import http.server
import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from obs_core.alerts import (
    AlertEngine,
    AlertEvent,
    DeliveryError,
    ErrorRateRule,
    LogSink,
    PagerDutySink,
    SlackSink,
    WebhookSink,
)
from obs_core.metrics import SpanFacts


class Receiver:
    """Records JSON POSTs; answers with the queued statuses first, then 202."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], Any]] = []
        self.statuses: list[int] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append((self.path, dict(self.headers), json.loads(body)))
                self.send_response(outer.statuses.pop(0) if outer.statuses else 202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    @property
    def bodies(self) -> list[Any]:
        return [body for _, _, body in self.requests]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()


def fire_and_resolve(clock: Any, *sinks: Any) -> None:
    engine = AlertEngine([ErrorRateRule(name="ObsErrorRateHigh", min_samples=1, window_s=60,
                                        severity="error")], sinks=list(sinks), clock=clock)
    engine.on_span_facts(SpanFacts(kind="llm", name="chat", error_type="TimeoutError"))
    engine.evaluate()
    clock.advance(120)
    engine.on_span_facts(SpanFacts(kind="llm", name="chat"))
    engine.evaluate()


def test_webhook_receives_the_event_as_json(receiver: Receiver, clock: Any) -> None:
    fire_and_resolve(clock, WebhookSink(receiver.url("/hook"), headers={"X-Token": "t"}))
    (path, headers, first), (_, _, second) = receiver.requests
    assert path == "/hook"
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Token"] == "t"
    assert (first["rule"], first["status"], second["status"]) == (
        "ObsErrorRateHigh", "firing", "resolved")
    assert first["dedup_key"] == second["dedup_key"] == "obs/ObsErrorRateHigh"
    assert AlertEvent.model_validate(first).value == 1.0


def test_pagerduty_sink_triggers_then_resolves_with_one_dedup_key(receiver: Receiver,
                                                                  clock: Any) -> None:
    fire_and_resolve(clock, PagerDutySink("R0UTING", url=receiver.url("/v2/enqueue"),
                                          source="checkout-bot"))
    trigger, resolve = receiver.bodies
    assert trigger["routing_key"] == "R0UTING"
    assert (trigger["event_action"], resolve["event_action"]) == ("trigger", "resolve")
    assert trigger["dedup_key"] == resolve["dedup_key"]
    payload = trigger["payload"]
    assert payload["severity"] == "error"
    assert payload["source"] == "checkout-bot"
    assert payload["summary"].startswith("ObsErrorRateHigh firing: error rate 100.0%")
    assert payload["custom_details"]["threshold"] == 0.05


def test_slack_sink_posts_a_text_message(receiver: Receiver, clock: Any) -> None:
    fire_and_resolve(clock, SlackSink(receiver.url("/slack")))
    firing, resolved = receiver.bodies
    assert set(firing) == {"text"}
    assert "ObsErrorRateHigh* FIRING" in firing["text"]
    assert "RESOLVED" in resolved["text"]


def test_server_errors_are_retried_with_backoff(receiver: Receiver, clock: Any) -> None:
    receiver.statuses = [503, 503]
    waits: list[float] = []
    sink = WebhookSink(receiver.url("/hook"), retries=2, backoff_s=0.5, sleep=waits.append)
    fire_and_resolve(clock, sink)
    assert len(receiver.requests) == 4  # 3 attempts for the firing, 1 for the resolution
    assert waits == [0.5, 1.0]


def test_client_errors_are_not_retried(receiver: Receiver) -> None:
    receiver.statuses = [400]
    sink = WebhookSink(receiver.url("/hook"), retries=3, sleep=lambda _: None)
    event = AlertEvent(rule="r", status="firing", severity="info", summary="s", value=1,
                       threshold=0, samples=1, started_at=0, at=0, dedup_key="obs/r")
    with pytest.raises(DeliveryError, match="400"):
        sink.send(event)
    assert len(receiver.requests) == 1


@pytest.mark.lenient
def test_an_unreachable_endpoint_is_counted_as_failed_delivery(clock: Any) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    sink = WebhookSink(f"http://127.0.0.1:{closed_port}/", retries=1, timeout_s=1,
                       sleep=lambda _: None)
    engine = AlertEngine([ErrorRateRule(name="err", min_samples=1)], sinks=[sink], clock=clock)
    engine.on_span_facts(SpanFacts(kind="llm", name="chat", error_type="E"))
    engine.evaluate()
    assert engine.delivery == {"WebhookSink.failed": 1}


def test_log_sink_logs_firing_as_warning(clock: Any, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="obs.alerts"):
        fire_and_resolve(clock, LogSink())
    levels = [(r.levelname, "firing" in r.getMessage()) for r in caplog.records
              if r.name == "obs.alerts"]
    assert levels == [("WARNING", True), ("INFO", False)]
