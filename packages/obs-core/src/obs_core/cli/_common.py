"""What every command shares: the handler contract, the ``--db`` option, argument types."""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from obs_core import _env
from obs_core._paths import default_trace_store_path

if TYPE_CHECKING:
    from obs_core.store import SQLiteTraceStore

Handler: TypeAlias = Callable[[argparse.Namespace], int]
"""A subcommand body: receives the parsed arguments, returns the exit status."""

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
"""What ``register()`` receives; call ``.add_parser(name, help=...)`` on it."""

TRACE_STORE_ENV = _env.OBS_TRACE_STORE.name
_SWITCHED_OFF = frozenset({"false", "0", "no", "off", "none"})


class CliError(Exception):
    """A user-facing failure: printed as ``obs: <message>`` with no traceback."""

    def __init__(self, message: str, *, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="PATH",
        type=Path,
        default=None,
        help=f"trace store file (default: ${TRACE_STORE_ENV}, else {default_trace_store_path()})",
    )


def trace_store_path(args: argparse.Namespace) -> Path:
    """``--db``, then ``$OBS_TRACE_STORE``, then the default data directory."""
    explicit: Path | None = getattr(args, "db", None)
    if explicit is not None:
        return explicit.expanduser()
    from_env = _env.OBS_TRACE_STORE.get()
    if from_env is None:
        return default_trace_store_path()
    if from_env.strip().lower() in _SWITCHED_OFF:
        raise CliError(f"the local trace store is switched off (${TRACE_STORE_ENV}={from_env}); "
                       "pass --db PATH to read one")
    return Path(from_env).expanduser()


def open_trace_store(args: argparse.Namespace) -> SQLiteTraceStore:
    """Open an existing store; a missing file is a clear error rather than a new empty store."""
    import sqlite3

    from obs_core.store import SQLiteTraceStore

    path = trace_store_path(args)
    if not path.is_file():
        raise CliError(f"no trace store at {path} (pass --db or set ${TRACE_STORE_ENV})")
    try:
        return SQLiteTraceStore(path)
    except (sqlite3.Error, OSError):
        pass  # perhaps another user's store we may only read
    try:
        return SQLiteTraceStore(path, read_only=True)
    except (sqlite3.Error, OSError) as exc:
        raise CliError(f"cannot open trace store {path}: {exc}") from exc


_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ns|us|ms|s|m|h|d|w)\s*$", re.IGNORECASE)
_UNIT_NS = {
    "ns": 1,
    "us": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60 * 1_000_000_000,
    "h": 3600 * 1_000_000_000,
    "d": 86400 * 1_000_000_000,
    "w": 7 * 86400 * 1_000_000_000,
}


def duration_ns(text: str) -> int:
    """``"500ms"``, ``"1.5s"``, ``"15m"``, ``"2h"``, ``"7d"`` → nanoseconds (argparse type)."""
    match = _DURATION_RE.match(text)
    if match is None:
        raise argparse.ArgumentTypeError(
            f"invalid duration {text!r} (examples: 500ms, 30s, 15m, 2h, 7d)"
        )
    return int(float(match.group(1)) * _UNIT_NS[match.group(2).lower()])


def point_in_time_ns(text: str) -> int:
    """A relative age (``1h`` = one hour ago) or an ISO 8601 date/time (local time if naive)."""
    if _DURATION_RE.match(text):
        return time.time_ns() - duration_ns(text)
    iso = text.strip()
    if iso.endswith(("Z", "z")):  # Python 3.10 does not read the UTC designator
        iso = iso[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid time {text!r} (examples: 1h, 2d, 2025-01-31, 2025-01-31T14:00)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return int(moment.astimezone(timezone.utc).timestamp() * 1e9)
