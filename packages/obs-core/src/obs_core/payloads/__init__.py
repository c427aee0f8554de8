"""Payloads: what prompts, answers, tool calls and retrieved documents said, kept privately.

Capture is one setting (``none | redacted | full``, default ``redacted``): the scrubber runs
before anything is queued for a store or a log. Records go to an embedded SQLite file or to
PostgreSQL through a bounded background writer, expire after a TTL, and can be read back with
``obs payloads TRACE_ID``.
"""

from __future__ import annotations

from obs_core.payloads._eventlog import PayloadEventLog
from obs_core.payloads._postgres_store import PostgresPayloadStore
from obs_core.payloads._sqlite_store import SQLitePayloadStore
from obs_core.payloads.capture import PayloadCapture
from obs_core.payloads.record import CaptureMode, PayloadDocument, PayloadRecord
from obs_core.payloads.scrubber import Finding, PiiKind, PlaceholderMap, Scrubber, ScrubSession
from obs_core.payloads.settings import PayloadSettings, build_capture, open_store
from obs_core.payloads.store import PayloadStore, PayloadStoreUnavailable, PurgeResult

__all__ = [
    "CaptureMode",
    "Finding",
    "PayloadCapture",
    "PayloadDocument",
    "PayloadEventLog",
    "PayloadRecord",
    "PayloadSettings",
    "PayloadStore",
    "PayloadStoreUnavailable",
    "PiiKind",
    "PlaceholderMap",
    "PostgresPayloadStore",
    "PurgeResult",
    "SQLitePayloadStore",
    "ScrubSession",
    "Scrubber",
    "build_capture",
    "open_store",
]

