"""``obs ui``: serve the local trace viewer in the browser."""

from __future__ import annotations

import argparse
import secrets
import sqlite3
from pathlib import Path

from obs_core.cli._common import CliError, Subparsers, add_db_option, trace_store_path
from obs_core.cli._payloads import (
    add_payload_store_options,
    open_payload_store,
    payload_store_target,
)

DEFAULT_PORT = 7788


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "ui",
        help="browse recorded traces in a local web viewer",
        description="Serve a read-only web viewer over the trace store: trace list with "
                    "filters, span tree and waterfall with each span's scrubbed payload, "
                    "evaluation results, and an overview of tokens, cost, latency and errors. "
                    "Binds 127.0.0.1 by default; binding any other address requires the "
                    "random access token printed in the URL.",
    )
    add_db_option(parser)
    add_payload_store_options(parser, db_flag="--payload-db")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port to bind, 0 for any free port (default: {DEFAULT_PORT})")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from obs_core.ui import is_loopback, serve

    path = trace_store_path(args)
    if not path.is_file():
        raise CliError(f"no trace store at {path} (pass --db or set $OBS_TRACE_STORE)")
    token = None if is_loopback(args.host) else secrets.token_urlsafe(24)
    target = payload_store_target(args)
    if isinstance(target, Path) and args.payload_db is None and not target.is_file():
        target = None  # no payloads captured yet: show traces without them
    payloads = open_payload_store(args, target) if target is not None else None
    try:
        server = serve(path, host=args.host, port=args.port, token=token,
                       payload_store=payloads)
    except (sqlite3.Error, OSError) as exc:
        if payloads is not None:
            payloads.close()
        raise CliError(f"cannot serve {path} on {args.host}:{args.port}: {exc}") from exc
    print(f"obs ui: serving {path} at {server.url}", flush=True)
    if payloads is None:
        print("obs ui: no payload store; spans are shown without payloads", flush=True)
    if token is not None:
        print("obs ui: the URL holds an access token; share it only with people who may "
              "read these traces", flush=True)
    try:
        server.serve_forever()
    finally:
        server.close()
    return 0
