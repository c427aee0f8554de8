"""The ``obs`` command line.

Each subcommand lives in its own module listed in :data:`COMMAND_MODULES`. A command module
exposes ``register(subparsers: Subparsers) -> None`` which adds its parser and sets a handler
with ``parser.set_defaults(handler=run)``, where ``run(args: argparse.Namespace) -> int``
returns the exit status. Adding a command is one new module plus one line here; modules are
imported only when the parser is built, so importing :mod:`obs_core` stays cheap.

Command modules should import heavy or optional dependencies inside their handler so one
missing extra never breaks the other commands.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from obs_core.cli._common import CliError, Handler, Subparsers

__all__ = ["COMMAND_MODULES", "CliError", "Handler", "Subparsers", "build_parser", "main"]

COMMAND_MODULES: tuple[str, ...] = (
    "obs_core.cli._traces",
    "obs_core.cli._show",
    "obs_core.cli._payloads",
    "obs_core.cli._purge",
    "obs_core.cli._rules",
    "obs_core.cli._dashboard",
    "obs_core.cli._ui",
    "obs_core.cli._evals",
    "obs_core.cli._eval_worker",
)
"""Modules that each contribute one or more subcommands, in help order."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="obs",
        description="Inspect what obs recorded about your LLM application.",
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        module = importlib.import_module(module_name)
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``obs`` command and return its exit status (the console-script entry point)."""
    _tolerate_unencodable_output()
    parser = build_parser()
    args = parser.parse_args(list(argv) if argv is not None else None)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return handler(args)
    except CliError as exc:
        print(f"obs: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        # `obs traces | head` closed our stdout: not an error worth a traceback.
        _silence_stdout()
        return 0
    except KeyboardInterrupt:
        return 130


def _tolerate_unencodable_output() -> None:
    """Recorded text may not fit the terminal's encoding; escape it instead of crashing."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):
                pass


def _silence_stdout() -> None:
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
