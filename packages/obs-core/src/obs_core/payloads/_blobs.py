"""Payloads over the size limit: cut with a marker, or moved to a private blob directory.

Applied after scrubbing, never before: cutting first could split a secret so the scrubber no
longer recognises the half that remains.
"""

from __future__ import annotations

import json
import logging
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from obs_core import _selfmetrics
from obs_core._paths import ensure_private_dir
from obs_core.payloads.record import BLOB_KEY, TRUNCATED_KEY

logger = logging.getLogger("obs.payloads")

Oversize = Literal["truncate", "offload"]
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


class PayloadLimiter:
    """Keeps each payload value (input, output, one document's content) under ``max_bytes`` of
    UTF-8 JSON."""

    def __init__(self, *, max_bytes: int, oversize: Oversize = "truncate",
                 blob_dir: Path | None = None) -> None:
        if max_bytes < 64:
            raise ValueError("max_payload_bytes must be at least 64")
        if oversize == "offload" and blob_dir is None:
            raise ValueError("offloading oversized payloads needs a blob directory")
        self.max_bytes = max_bytes
        self.oversize = oversize
        self.blob_dir = blob_dir

    def limit(self, value: Any, *, key: str) -> tuple[Any, bool]:
        """``value`` itself if small enough, else its marker; and whether it was replaced.

        ``key`` names the value uniquely and stably (trace, span, field) so a record retried
        after an outage rewrites the same blob instead of leaving a second copy.
        """
        if value is None:
            return None, False
        text = value if isinstance(value, str) else _dumps(value)
        encoded = text.encode("utf-8", "replace")
        if len(encoded) <= self.max_bytes:
            return value, False
        if self.oversize == "offload":
            as_json = _dumps(value).encode("utf-8", "replace") if isinstance(value, str) else encoded
            path = self._offload(as_json, key)
            if path is not None:
                return {BLOB_KEY: {"path": str(path), "original_bytes": len(encoded)}}, True
        preview = encoded[: self.max_bytes].decode("utf-8", "ignore")
        return {TRUNCATED_KEY: {"original_bytes": len(encoded), "preview": preview}}, True

    def _offload(self, data: bytes, key: str) -> Path | None:
        if self.blob_dir is None:
            return None
        path = self.blob_dir / f"{_UNSAFE.sub('_', key)}.json"
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            ensure_private_dir(self.blob_dir)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            _selfmetrics.count_drop("payload_blob_failed")
            logger.warning("cannot write payload blob in %s (%s); truncating instead",
                           self.blob_dir, exc.strerror or type(exc).__name__)
            return None
        return path


def sweep_blobs(blob_dir: Path, *, older_than: datetime) -> int:
    """Delete blobs last written before ``older_than``; the rows that referenced them expire
    on the same TTL, so a blob never outlives its record by more than one purge interval."""
    if not blob_dir.is_dir():
        return 0
    cutoff = older_than.timestamp()
    return sum(_remove_if_older(entry, cutoff) for entry in os.scandir(blob_dir))


def _remove_if_older(entry: os.DirEntry[str], cutoff: float) -> int:
    try:
        if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
            os.unlink(entry.path)
            return 1
    except FileNotFoundError:  # another process swept it first
        pass
    return 0


def read_blob(path: str) -> Any:
    """The value a blob marker points to (for the command line)."""
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
