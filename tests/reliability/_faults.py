"""Fault injectors and measuring tools of the reliability suite (imported as
``reliability._faults``; ``tests`` is on pytest's ``pythonpath``).

Every injector is a real network or file-system condition on an ephemeral port or a temporary
path: an OTLP receiver that answers late, a port nobody listens on, a listener that accepts and
never answers. Nothing here patches obs itself.
"""

from __future__ import annotations

import contextlib
import os
import socket
import statistics
import threading
import time
from collections.abc import Callable, Iterator

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

SCALE_VAR = "OBS_RELIABILITY_SCALE"
"""``full`` runs the documented full sizes; anything else (or unset) the CI sizes."""


def full_scale() -> bool:
    return os.environ.get(SCALE_VAR, "").strip().lower() == "full"


def sized(ci: int, full: int) -> int:
    """``full`` under ``OBS_RELIABILITY_SCALE=full``, else ``ci``."""
    return full if full_scale() else ci


def closed_port() -> int:
    """A port nobody listens on: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def black_hole() -> Iterator[int]:
    """A port that accepts TCP connections, reads nothing and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(2)
        for conn in held:
            conn.close()
        listener.close()


class EndedSpans(SpanProcessor):
    """Counts spans that ended on a provider, whatever the exporters behind it do."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return

    def on_end(self, span: ReadableSpan) -> None:
        with self._lock:
            self.count += 1


def median_ms(action: Callable[[], object], *, runs: int, warmup: int = 5) -> float:
    """Median wall time of ``action`` in milliseconds."""
    for _ in range(warmup):
        action()
    samples: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000.0)
    return statistics.median(samples)


def within_noise(faulty_ms: float, healthy_ms: float) -> bool:
    """The suite's latency bound: under twice the healthy median plus 5 ms."""
    return faulty_ms < 2.0 * healthy_ms + 5.0


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()
