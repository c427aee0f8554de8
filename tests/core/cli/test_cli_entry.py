"""The ``obs`` entry point: command registration, the store location, user-facing errors."""

from __future__ import annotations

import argparse
import sys
import types
from pathlib import Path

import pytest

from core.cli.cli_scenarios import Recorded, RunObs
from obs_core import cli
from obs_core.cli import Subparsers


def test_traces_and_show_are_registered() -> None:
    parser = cli.build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))

    assert {"traces", "show"} <= set(subparsers.choices)


def test_a_command_module_adds_its_command_through_register(
    monkeypatch: pytest.MonkeyPatch, run_obs: RunObs
) -> None:
    module = types.ModuleType("obs_test_hello_command")

    def register(subparsers: Subparsers) -> None:
        parser = subparsers.add_parser("hello", help="say hello")
        parser.add_argument("who")
        parser.set_defaults(handler=lambda args: print(f"hello {args.who}") or 7)

    module.register = register  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setattr(cli, "COMMAND_MODULES", (*cli.COMMAND_MODULES, module.__name__))

    outcome = run_obs("hello", "world")

    assert (outcome.code, outcome.out) == (7, "hello world\n")


def test_no_command_prints_usage_and_fails(run_obs: RunObs) -> None:
    outcome = run_obs()

    assert outcome.code == 2
    assert "usage: obs" in outcome.err
    assert "traces" in outcome.err


def test_store_path_comes_from_the_environment_when_db_is_not_given(
    monkeypatch: pytest.MonkeyPatch, recorded: Recorded, run_obs: RunObs
) -> None:
    monkeypatch.setenv("OBS_TRACE_STORE", str(recorded.db))

    outcome = run_obs("traces")

    assert outcome.code == 0
    assert "handle_request" in outcome.out


def test_db_option_wins_over_the_environment(
    monkeypatch: pytest.MonkeyPatch, recorded: Recorded, run_obs: RunObs, tmp_path: Path
) -> None:
    monkeypatch.setenv("OBS_TRACE_STORE", str(tmp_path / "elsewhere.db"))

    assert run_obs("traces", "--db", str(recorded.db)).code == 0


def test_default_store_lives_in_the_data_directory(
    monkeypatch: pytest.MonkeyPatch, run_obs: RunObs, tmp_path: Path
) -> None:
    monkeypatch.setenv("OBS_DATA_DIR", str(tmp_path / "somewhere"))

    outcome = run_obs("traces")

    assert outcome.code == 1
    assert f"no trace store at {tmp_path / 'somewhere' / 'traces.db'}" in outcome.err


def test_a_missing_store_is_reported_without_creating_one(
    run_obs: RunObs, tmp_path: Path
) -> None:
    missing = tmp_path / "nothing-here.db"

    outcome = run_obs("show", "abc", "--db", str(missing))

    assert outcome.code == 1
    assert outcome.err.startswith("obs: no trace store at")
    assert not missing.exists()


def test_a_switched_off_store_is_explained(
    monkeypatch: pytest.MonkeyPatch, run_obs: RunObs
) -> None:
    monkeypatch.setenv("OBS_TRACE_STORE", "false")

    outcome = run_obs("traces")

    assert outcome.code == 1
    assert "switched off" in outcome.err
