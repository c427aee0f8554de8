"""Types shared by the command-line tests and their fixtures."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Recorded:
    db: Path
    agent: str
    """Ten minutes ago: request → agent that hit its step limit, with a failed tool call."""
    quick: str
    """Nine minutes ago: a successful one-call trace, session s-2, model gpt-4o."""
    old: str
    """November 2023: a successful trace outside any recent window."""


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str


RunObs = Callable[..., Outcome]
