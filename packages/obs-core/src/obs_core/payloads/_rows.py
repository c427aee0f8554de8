"""The row layout both payload stores share: indexed columns plus the whole record as JSON.

Filters and analytics use the columns; reads rebuild the record from the JSON, so a field added
to :class:`PayloadRecord` needs no migration.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from obs_core.payloads.record import PayloadRecord

COLUMNS: tuple[str, ...] = (
    "trace_id",
    "span_id",
    "parent_span_id",
    "start_time",
    "kind",
    "name",
    "model",
    "status",
    "session_id",
    "user_cohort",
    "pipeline_version",
    "prompt_hash",
    "input_tokens",
    "output_tokens",
    "record",
)
"""Column order of :func:`row`; ``start_time`` is the store's native time representation."""

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,47}$")


def row(record: PayloadRecord, start_time: Any) -> tuple[Any, ...]:
    """The values of one insert, in :data:`COLUMNS` order."""
    return (
        record.trace_id,
        record.span_id,
        record.parent_span_id,
        start_time,
        record.kind,
        record.name,
        record.model,
        record.status,
        record.session_id,
        record.user_cohort,
        record.pipeline_version,
        record.prompt_hash,
        record.input_tokens,
        record.output_tokens,
        record.model_dump_json(),
    )


def check_identifier(value: str, what: str) -> str:
    """Table and schema names are interpolated into DDL, so only plain identifiers pass."""
    if not _IDENTIFIER.match(value):
        raise ValueError(f"{what} must be a plain SQL identifier (letters, digits, _), got {value!r}")
    return value


def filters(
    *,
    session_id: str | None,
    pipeline_version: str | None,
    prompt_hash: str | None,
    since: datetime | None,
    until: datetime | None,
) -> list[tuple[str, str, Any]]:
    """``(column, operator, value)`` for each filter that was given."""
    given: list[tuple[str, str, Any]] = []
    if session_id is not None:
        given.append(("session_id", "=", session_id))
    if pipeline_version is not None:
        given.append(("pipeline_version", "=", pipeline_version))
    if prompt_hash is not None:
        given.append(("prompt_hash", "=", prompt_hash))
    if since is not None:
        given.append(("start_time", ">=", since))
    if until is not None:
        given.append(("start_time", "<", until))
    return given
