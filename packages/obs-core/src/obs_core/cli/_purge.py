"""``obs purge``: apply the retention period now, to payloads and to local traces.

The payload writer already purges expired records every hour while an application runs; this
command is for stores no running process looks after, or for a shorter retention right away.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import datetime, timezone
from pathlib import Path

from obs_core.cli._common import (
    CliError,
    Subparsers,
    add_db_option,
    duration_ns,
    trace_store_path,
)
from obs_core.cli._payloads import (
    add_payload_store_options,
    open_payload_store,
    payload_store_target,
)
from obs_core.payloads.store import PayloadStoreUnavailable

TTL_ENV = "OBS_PAYLOAD_TTL_DAYS"
_DEFAULT_TTL_DAYS = 30.0


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "purge",
        help="delete payloads and traces older than the retention period",
        description="Delete captured payloads (and their offloaded blobs) and locally stored "
        f"traces older than --older-than (default: ${TTL_ENV} days, else "
        f"{_DEFAULT_TTL_DAYS:g} days).",
    )
    parser.add_argument(
        "--older-than", metavar="AGE", type=duration_ns, default=None,
        help="retention period, e.g. 30d, 12h (default: the payload TTL)",
    )
    add_payload_store_options(parser, db_flag="--payload-db")
    parser.add_argument("--blob-dir", metavar="PATH", type=Path, default=None,
                        help="offloaded payload blobs (default: payload-blobs next to the store)")
    add_db_option(parser)  # --db: the trace store, as in every other command
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument("--payloads-only", action="store_true", help="leave the traces alone")
    scope.add_argument("--traces-only", action="store_true", help="leave the payloads alone")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    age_ns = args.older_than if args.older_than is not None else _default_ttl_ns()
    cutoff_ns = time.time_ns() - age_ns
    cutoff = datetime.fromtimestamp(cutoff_ns / 1e9, tz=timezone.utc)
    print(f"purging payloads and traces older than {cutoff.isoformat(timespec='seconds')}")
    if not args.traces_only:
        _purge_payloads(args, cutoff)
    if not args.payloads_only:
        _purge_traces(args, cutoff_ns)
    return 0


def _default_ttl_ns() -> int:
    raw = os.environ.get(TTL_ENV, "").strip()
    try:
        days = float(raw) if raw else _DEFAULT_TTL_DAYS
    except ValueError:
        raise CliError(f"${TTL_ENV}={raw!r} is not a number of days", exit_code=2) from None
    if days <= 0:
        raise CliError(f"${TTL_ENV} must be positive, got {raw}", exit_code=2)
    return int(days * 86_400 * 1e9)


def _purge_payloads(args: argparse.Namespace, cutoff: datetime) -> None:
    from obs_core.payloads._blobs import sweep_blobs
    from obs_core.payloads.settings import BLOB_DIR_NAME

    target = payload_store_target(args)
    if target is None:
        print("payloads: store switched off, nothing to purge")
        return
    if isinstance(target, Path) and not target.is_file():
        print(f"payloads: no store at {target}, nothing to purge")
    else:
        store = open_payload_store(args, target)
        try:
            result = store.purge(older_than=cutoff)
        except PayloadStoreUnavailable as exc:
            raise CliError(str(exc)) from exc
        finally:
            store.close()
        line = f"payloads: deleted {result.deleted_rows} records"
        if result.dropped_partitions:
            line += f", dropped {len(result.dropped_partitions)} daily partitions"
        print(line)
    blob_dir = args.blob_dir
    if blob_dir is None and isinstance(target, Path):
        blob_dir = target.parent / BLOB_DIR_NAME
    if blob_dir is not None and blob_dir.is_dir():
        print(f"payloads: deleted {sweep_blobs(blob_dir, older_than=cutoff)} offloaded blobs")


def _purge_traces(args: argparse.Namespace, cutoff_ns: int) -> None:
    path = trace_store_path(args)
    if not path.is_file():
        print(f"traces: no store at {path}, nothing to purge")
        return
    import sqlite3

    from obs_core.store import SQLiteTraceStore

    try:
        store = SQLiteTraceStore(path)
    except (sqlite3.Error, OSError) as exc:
        raise CliError(f"cannot open trace store {path}: {exc}") from exc
    try:
        deleted = store.purge(cutoff_ns)
    finally:
        store.close()
    print(f"traces: deleted {deleted} traces")
