"""An optional JSON-lines log of payload records, for shipping to a log pipeline.

Built on structlog with its own processor chain, so the application's structlog configuration
is neither used nor changed. Receives the same scrubbed, size-limited records as the stores.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, TextIO

import structlog

from obs_core._paths import ensure_private_dir
from obs_core.payloads.record import PayloadRecord

EVENT_NAME = "obs.payload"


class PayloadEventLog:
    """Writes one JSON object per record: ``{"event": "obs.payload", "timestamp": ..., ...}``.

    ``target`` is a file path (appended to, created ``0600``) or an open text stream, which the
    caller keeps ownership of.
    """

    def __init__(self, target: Path | str | TextIO) -> None:
        self._owned: TextIO | None = None
        if isinstance(target, (str, Path)):
            path = Path(target).expanduser()
            if not path.parent.exists():
                ensure_private_dir(path.parent)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            self._owned = os.fdopen(fd, "a", encoding="utf-8")
            stream: TextIO = self._owned
        else:
            stream = target
        self._stream = stream
        self._lock = threading.Lock()
        self._logger = structlog.wrap_logger(
            structlog.WriteLogger(stream),
            processors=[
                structlog.processors.TimeStamper(fmt="iso", utc=True, key="logged_at"),
                structlog.processors.JSONRenderer(ensure_ascii=False, sort_keys=False),
            ],
            context_class=dict,
            cache_logger_on_first_use=True,
        )

    def emit(self, record: PayloadRecord) -> None:
        fields: dict[str, Any] = record.model_dump(mode="json")
        with self._lock:
            self._logger.info(EVENT_NAME, **fields)

    def flush(self) -> None:
        with self._lock:
            if not self._stream.closed:
                self._stream.flush()

    def close(self) -> None:
        """Close the file this log opened; a stream passed in stays open."""
        with self._lock:
            if not self._stream.closed:
                self._stream.flush()
            if self._owned is not None:
                self._owned.close()
                self._owned = None
