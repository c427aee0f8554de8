"""JSON over HTTP POST with the standard library: a timeout, a few retries, nothing else."""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

logger = logging.getLogger("obs.alerts")

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class DeliveryError(Exception):
    """A notification could not be delivered after every attempt."""


def post_json(url: str, body: Any, *, timeout_s: float = 5.0, retries: int = 2,
              backoff_s: float = 0.5, headers: Mapping[str, str] | None = None,
              sleep: Callable[[float], None] = time.sleep) -> int:
    """POST ``body`` as JSON; return the HTTP status of the accepted attempt.

    Connection failures, timeouts and retryable statuses (429, 5xx) are retried ``retries``
    times with doubling backoff; other 4xx answers fail at once (a bad key will not improve).
    """
    if not url.startswith(("http://", "https://")):
        raise DeliveryError(f"refusing non-HTTP URL {url!r}")
    data = json.dumps(body, default=str).encode()
    request_headers = {"Content-Type": "application/json", "User-Agent": "obs-alerts"}
    request_headers.update(headers or {})
    delay = backoff_s
    last: Exception | None = None
    for attempt in range(retries + 1):
        if attempt:
            sleep(delay)
            delay *= 2
        request = urllib.request.Request(url, data=data, headers=request_headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:
                status = int(response.status)
                response.read()
                return status
        except urllib.error.HTTPError as exc:
            exc.close()
            last = exc
            if exc.code not in RETRYABLE_STATUS:
                break
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            last = exc
    raise DeliveryError(f"POST {url} failed: {last}") from last
