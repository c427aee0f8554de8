"""``obs payloads TRACE_ID``: what the model, tools and retrievers of one trace saw and said.

Shows records exactly as stored: in ``redacted`` mode that means scrubbed, with placeholders.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from obs_core._paths import default_payload_store_path
from obs_core.cli._common import CliError, Subparsers
from obs_core.cli._render import Style, clean, color_enabled, fmt_cost, fmt_duration, fmt_time
from obs_core.payloads.record import BLOB_KEY, TRUNCATED_KEY, PayloadRecord
from obs_core.payloads.store import PayloadStore, PayloadStoreUnavailable

PAYLOAD_STORE_ENV = "OBS_PAYLOAD_STORE"
_TEXT_WIDTH = 4000


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "payloads",
        help="show the captured payloads of one trace",
        description="Show the prompts, answers, tool arguments and results, and retrieved "
        "documents captured for a trace, as they were stored (scrubbed unless capture was full).",
    )
    parser.add_argument("trace_id", metavar="TRACE_ID", help="trace id (32 hex digits)")
    add_payload_store_options(parser)
    parser.add_argument("--json", action="store_true", help="print the records as JSON")
    parser.set_defaults(handler=run)


def add_payload_store_options(parser: argparse.ArgumentParser, *, db_flag: str = "--db") -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        db_flag, dest="payload_db", metavar="PATH", type=Path, default=None,
        help=f"SQLite payload store (default: ${PAYLOAD_STORE_ENV}, else "
        f"{default_payload_store_path()})",
    )
    where.add_argument("--dsn", metavar="DSN", default=None,
                       help="PostgreSQL payload store (postgresql://... or key=value)")
    parser.add_argument("--pg-schema", default="public", help="PostgreSQL schema (default public)")
    parser.add_argument("--pg-table", default="obs_payloads",
                        help="PostgreSQL table (default obs_payloads)")


def payload_store_target(args: argparse.Namespace) -> Path | str | None:
    """``--dsn``, ``--db``, then ``$OBS_PAYLOAD_STORE``, then the default file; ``None`` when
    the environment switches the payload store off."""
    if args.dsn:
        return str(args.dsn)
    if args.payload_db is not None:
        return Path(args.payload_db).expanduser()
    from_env = os.environ.get(PAYLOAD_STORE_ENV, "").strip()
    if from_env.lower() in {"false", "0", "no", "off", "none"}:
        return None
    if from_env:
        from obs_core.payloads._dsn import is_dsn

        return from_env if is_dsn(from_env) else Path(from_env).expanduser()
    return default_payload_store_path()


def open_payload_store(args: argparse.Namespace, target: Path | str) -> PayloadStore:
    """An existing store: a missing SQLite file is an error here, not a new empty store."""
    if isinstance(target, Path):
        if not target.is_file():
            raise CliError(f"no payload store at {target} (pass --db or set ${PAYLOAD_STORE_ENV})")
        from obs_core.payloads._sqlite_store import SQLitePayloadStore

        return SQLitePayloadStore(target)
    from obs_core.payloads._postgres_store import PostgresPayloadStore

    try:
        return PostgresPayloadStore(target, schema=args.pg_schema, table=args.pg_table,
                                    pooled=False)
    except (ImportError, ValueError) as exc:
        raise CliError(str(exc)) from exc


def run(args: argparse.Namespace) -> int:
    trace_id = args.trace_id.strip().lower()
    if not trace_id:
        raise CliError("empty trace id", exit_code=2)
    target = payload_store_target(args)
    if target is None:
        raise CliError(f"the payload store is switched off (${PAYLOAD_STORE_ENV})")
    store = open_payload_store(args, target)
    try:
        records = store.get_trace(trace_id)
    except PayloadStoreUnavailable as exc:
        raise CliError(str(exc)) from exc
    finally:
        store.close()
    if not records:
        raise CliError(f"no payloads stored for trace {trace_id}")
    out = sys.stdout
    if args.json:
        json.dump([r.model_dump(mode="json") for r in records], out, indent=2, ensure_ascii=False)
        out.write("\n")
        return 0
    style = Style(color_enabled(out))
    for index, record in enumerate(records):
        if index:
            print()
        for line in render_record(record, style):
            print(line)
    return 0


def render_record(record: PayloadRecord, style: Style) -> list[str]:
    """A readable block for one record: header, identity, then each payload."""
    status = style.red("error") if record.status == "error" else style.green("ok")
    head = [style.bold(clean(record.kind)), clean(record.name, max_len=80)]
    if record.model and record.model != record.name:
        head.append(style.cyan(clean(record.model, max_len=80)))
    head += [status, fmt_duration(int(record.duration_ms * 1e6)),
             fmt_time(record.start_time_ns)]
    lines = ["  ".join(head)]
    facts = [f"span {record.span_id}"]
    if record.parent_span_id:
        facts.append(f"parent {record.parent_span_id}")
    if record.input_tokens is not None or record.output_tokens is not None:
        facts.append(f"tokens {record.input_tokens or 0} in / {record.output_tokens or 0} out")
    if record.cost_usd:
        facts.append(fmt_cost(record.cost_usd))
    for label, value in (("session", record.session_id), ("cohort", record.user_cohort),
                         ("pipeline", record.pipeline_version)):
        if value:
            facts.append(f"{label} {clean(value, max_len=60)}")
    if record.embedding_input_count is not None:
        facts.append(f"{record.embedding_input_count} texts embedded")
    if record.prompt_hash:
        facts.append(f"prompt #{record.prompt_hash[:12]}")
    lines.append(style.dim("  " + " · ".join(facts)))
    if record.error_type or record.error_message:
        lines.append("  " + style.red(clean(
            f"{record.error_type or 'error'}: {record.error_message or ''}", max_len=_TEXT_WIDTH)))
    if record.input is not None:
        lines += _section("input", record.input, style)
    if record.output is not None:
        lines += _section("output", record.output, style)
    for i, doc in enumerate(record.documents, start=1):
        label = f"document {i}"
        if doc.id:
            label += f" {clean(doc.id, max_len=80)}"
        if doc.score is not None:
            label += f" (score {doc.score:.3f})"
        lines += _section(label, doc.content, style)
    return lines


def _section(label: str, value: Any, style: Style) -> list[str]:
    lines = [f"  {style.bold(label)}:"]
    lines += ["    " + line for line in _text_lines(value)]
    return lines


def _text_lines(value: Any) -> list[str]:
    if isinstance(value, dict) and TRUNCATED_KEY in value:
        info = value[TRUNCATED_KEY]
        return [f"[truncated, originally {info.get('original_bytes')} bytes]",
                *_split(str(info.get("preview", "")))]
    if isinstance(value, dict) and BLOB_KEY in value:
        info = value[BLOB_KEY]
        return [f"[{info.get('original_bytes')} bytes stored in {clean(info.get('path'))}]"]
    if isinstance(value, dict) and "role" in value and "content" in value:
        value = [value]  # a single response message
    if _is_messages(value):
        out: list[str] = []
        for message in value:
            content = message.get("content")
            text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
            parts = _split(text)
            out.append(f"{clean(message.get('role'))}: {parts[0] if parts else ''}")
            out += ["  " + p for p in parts[1:]]
            if message.get("tool_calls"):
                out.append("  tool calls: " + clean(json.dumps(message["tool_calls"]),
                                                     max_len=_TEXT_WIDTH))
        return out
    if isinstance(value, str):
        return _split(value)
    return _split(json.dumps(value, indent=2, ensure_ascii=False))


def _is_messages(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(
        isinstance(m, dict) and "role" in m for m in value)


def _split(text: str) -> list[str]:
    return [clean(line, max_len=_TEXT_WIDTH) for line in text.splitlines()] or [""]
