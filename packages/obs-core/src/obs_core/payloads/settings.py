"""Payload capture options as ``configure()`` resolves them, and the factory that wires them up."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Literal, TextIO

from obs_core._paths import data_dir, default_payload_store_path
from obs_core.config import ObsConfigError
from obs_core.payloads._blobs import PayloadLimiter
from obs_core.payloads._convert import SupportsScrub
from obs_core.payloads._dsn import is_dsn
from obs_core.payloads._eventlog import PayloadEventLog
from obs_core.payloads._hashing import SECRET_FILE_NAME, PromptHasher, resolve_secret
from obs_core.payloads.capture import PayloadCapture
from obs_core.payloads.record import CaptureMode
from obs_core.payloads.store import PayloadStore

logger = logging.getLogger("obs.payloads")

BLOB_DIR_NAME = "payload-blobs"


@dataclass(frozen=True, kw_only=True)
class PayloadSettings:
    """Everything payload capture can be told. ``None`` means the default described."""

    capture: CaptureMode = "redacted"
    """``none`` keeps nothing, ``redacted`` (default) scrubs first, ``full`` keeps raw text."""
    store: Path | str | Literal[False] | None = None
    """A SQLite file path, a PostgreSQL DSN (``postgresql://...`` or ``key=value``), ``False``
    for no store (event log only), or ``None`` for the default SQLite file."""
    ttl_days: float | None = 30.0
    """Records older than this are purged by the writer and by ``obs purge``; ``None`` keeps
    them forever."""
    sample_rate: float = 1.0
    """Share of traces whose payloads are captured, decided by trace id as OpenTelemetry's
    ratio sampler decides (the lower 64 bits against the rate), so a trace's records are kept
    or skipped together and agree with a ``traceidratio`` sampler at the same rate."""
    max_payload_bytes: int = 256 * 1024
    """Largest input, output or document content kept inline (UTF-8 JSON bytes)."""
    oversize: Literal["truncate", "offload"] = "truncate"
    """What happens above the limit: cut with a marker, or move to ``blob_dir``."""
    blob_dir: Path | None = None
    """Where offloaded payloads go (``0700``); default ``payload-blobs`` next to the store."""
    hash_secret: str | bytes | None = field(default=None, repr=False)
    """Key of the prompt hash. Default: a random per-installation key kept in
    ``hash_secret_file``, so hashes are stable across restarts on one machine."""
    hash_secret_file: Path | None = None
    """Default: ``payload-hash.key`` next to the SQLite store, else in the data directory."""
    event_log: Path | str | TextIO | None = None
    """Also write each record as a JSON line to this file or stream."""
    postgres_schema: str = "public"
    postgres_table: str = "obs_payloads"
    max_buffered: int = 10_000
    """Records queued or held during a store outage before new ones are dropped (counted)."""

    def __post_init__(self) -> None:
        if self.capture not in ("none", "redacted", "full"):
            raise ObsConfigError(
                f"capture={self.capture!r}: expected one of none, redacted, full")
        if self.oversize not in ("truncate", "offload"):
            raise ObsConfigError(f"oversize={self.oversize!r}: expected truncate or offload")
        if self.ttl_days is not None and self.ttl_days <= 0:
            raise ObsConfigError(f"ttl_days must be positive, got {self.ttl_days}")
        if not 0.0 <= self.sample_rate <= 1.0:
            raise ObsConfigError(f"sample_rate must be between 0 and 1, got {self.sample_rate}")
        if self.max_payload_bytes < 64:
            raise ObsConfigError(f"max_payload_bytes must be at least 64, got {self.max_payload_bytes}")
        if self.max_buffered < 1:
            raise ObsConfigError(f"max_buffered must be positive, got {self.max_buffered}")
        if self.hash_secret is not None and len(self.hash_secret) < 16:
            raise ObsConfigError("hash_secret must be at least 16 characters")
        if self.store is True:  # type: ignore[comparison-overlap]  # a common slip, caught here
            raise ObsConfigError("store=True is ambiguous: pass None for the default store")

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file this configuration writes to, if it uses SQLite."""
        if self.store is False:
            return None
        if self.store is None:
            return default_payload_store_path()
        if isinstance(self.store, str) and is_dsn(self.store):
            return None
        return Path(self.store).expanduser()

    @property
    def home(self) -> Path:
        """The folder where the blob directory and the hash key live by default."""
        path = self.sqlite_path
        return path.parent if path is not None else data_dir()


def open_store(settings: PayloadSettings) -> PayloadStore | None:
    """The store ``settings`` name, not yet connected (connections open on first write)."""
    if settings.store is False:
        return None
    sqlite_path = settings.sqlite_path
    if sqlite_path is not None:
        from obs_core.payloads._sqlite_store import SQLitePayloadStore

        return SQLitePayloadStore(sqlite_path)
    from obs_core.payloads._postgres_store import PostgresPayloadStore

    try:
        return PostgresPayloadStore(str(settings.store), schema=settings.postgres_schema,
                                    table=settings.postgres_table)
    except (ImportError, ValueError) as exc:
        raise ObsConfigError(str(exc)) from exc


def build_capture(settings: PayloadSettings, scrubber: SupportsScrub | None) -> PayloadCapture | None:
    """The observer to register with the recorder, or ``None`` when there is nothing to do
    (``capture="none"``, or no store and no event log).

    Raises :class:`~obs_core.config.ObsConfigError` for settings that cannot work, such as
    redacted capture without a scrubber or a PostgreSQL DSN without psycopg installed.
    """
    mode = settings.capture
    if mode == "none":
        return None
    if settings.store is False and settings.event_log is None:
        return None
    if mode == "redacted" and scrubber is None:
        raise ObsConfigError("redacted payload capture needs the scrubber")
    home = settings.home
    blob_dir = settings.blob_dir or home / BLOB_DIR_NAME
    secret = resolve_secret(settings.hash_secret,
                            key_file=settings.hash_secret_file or home / SECRET_FILE_NAME)
    store = open_store(settings)
    try:
        event_log = PayloadEventLog(settings.event_log) if settings.event_log is not None else None
    except OSError as exc:
        raise ObsConfigError(f"cannot open the payload event log: {exc}") from exc
    return PayloadCapture(
        store=store,
        hasher=PromptHasher(secret),
        mode=mode,
        scrubber=scrubber,
        limiter=PayloadLimiter(max_bytes=settings.max_payload_bytes, oversize=settings.oversize,
                               blob_dir=blob_dir),
        event_log=event_log,
        ttl=timedelta(days=settings.ttl_days) if settings.ttl_days is not None else None,
        max_buffered=settings.max_buffered,
        sample_rate=settings.sample_rate,
    )
