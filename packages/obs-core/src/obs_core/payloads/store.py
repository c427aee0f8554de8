"""The plug point for payload storage, and what every implementation promises."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from obs_core.payloads.record import PayloadRecord


class PayloadStoreUnavailable(Exception):
    """The store cannot be reached right now (connection refused, disk full, file locked).

    The writer keeps the batch, backs off and retries; any *other* exception from
    :meth:`PayloadStore.write` means the data itself was rejected, and the writer isolates and
    drops the offending records instead of retrying them forever.
    """


@dataclass(frozen=True, kw_only=True)
class PurgeResult:
    """What one TTL purge removed."""

    deleted_rows: int = 0
    """Rows deleted one by one (SQLite; the boundary day in PostgreSQL)."""
    dropped_partitions: list[str] = field(default_factory=list)
    """Whole daily partitions dropped (PostgreSQL): their rows are gone without being counted,
    since counting them would cost the scan that dropping avoids."""


@runtime_checkable
class PayloadStore(Protocol):
    """Where payload records live. Written only by the payload writer thread.

    Implementations must be idempotent on ``(trace_id, span_id)``: writing a record that is
    already stored is a no-op, which is what makes retry-after-outage safe.
    """

    def write(self, records: Sequence[PayloadRecord]) -> int:
        """Insert ``records`` in one batch; return how many were new.

        Raises :class:`PayloadStoreUnavailable` when the store is unreachable.
        """
        ...

    def get_trace(self, trace_id: str) -> list[PayloadRecord]:
        """Every record of one trace, oldest first."""
        ...

    def search(
        self,
        *,
        session_id: str | None = None,
        pipeline_version: str | None = None,
        prompt_hash: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
    ) -> list[PayloadRecord]:
        """Records matching every given filter, newest first."""
        ...

    def purge(self, *, older_than: datetime) -> PurgeResult:
        """Remove records whose run started before ``older_than``."""
        ...

    def close(self) -> None:
        """Release connections and files; the store is not used afterwards."""
        ...
