"""The one place where obs contains its own failures.

Every entry point a framework calls into (callbacks, span handlers, wrapped clients, observers)
runs under :func:`guard`. An exception inside obs is counted, logged once per place and kind, and
swallowed, so the host application runs on unchanged. Under the test suite (``OBS_STRICT=1`` or
:func:`set_strict`) it is re-raised instead, so a bug cannot hide behind the safety net.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Callable
from types import TracebackType
from typing import ParamSpec, TypeVar

from obs_core import _selfmetrics

logger = logging.getLogger("obs")

P = ParamSpec("P")
R = TypeVar("R")

_seen: set[tuple[str, str]] = set()
_seen_lock = threading.Lock()
_strict: bool | None = None


def set_strict(value: bool | None) -> None:
    """Re-raise contained exceptions (``True``), swallow them (``False``), or follow
    ``OBS_STRICT`` (``None``)."""
    global _strict
    _strict = value


def is_strict() -> bool:
    if _strict is not None:
        return _strict
    return os.environ.get("OBS_STRICT", "").lower() in {"1", "true", "yes"}


def report(where: str, exc: BaseException) -> None:
    """Count and log (once per place and exception type) an exception obs contained."""
    _selfmetrics.count_internal_error(where)
    key = (where, type(exc).__name__)
    with _seen_lock:
        first = key not in _seen
        _seen.add(key)
    if first:
        logger.warning(
            "obs contained an internal error in %s (%s); the application is unaffected. "
            "Further errors of this kind are counted in obs.self.internal_errors, not logged.",
            where, type(exc).__name__, exc_info=exc,
        )


class _Guard:
    """The context manager :func:`guard` returns. Stateless, so one instance per place is
    shared by every thread: entering costs one dictionary lookup and no allocation, which
    matters because several guards wrap every framework callback (a generator-based context
    manager costs a generator and a wrapper object per use)."""

    __slots__ = ("where",)

    def __init__(self, where: str) -> None:
        self.where = where

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> bool:
        if exc is None or not isinstance(exc, Exception):
            return False  # no exception, or one that is not ours to contain (KeyboardInterrupt)
        report(self.where, exc)
        return not is_strict()


_guards: dict[str, _Guard] = {}
_MAX_GUARDS = 4096
"""Places are a fixed set of literals in practice; the bound only stops a caller that builds
names dynamically from growing the cache without limit."""


def guard(where: str) -> _Guard:
    """Contain any ``Exception`` raised inside the block."""
    found = _guards.get(where)
    if found is None:
        found = _Guard(where)
        if len(_guards) < _MAX_GUARDS:
            _guards[where] = found
    return found


def guarded(where: str) -> Callable[[Callable[P, R]], Callable[P, R | None]]:
    """Decorator form of :func:`guard`: the function returns ``None`` when it failed."""

    def decorate(fn: Callable[P, R]) -> Callable[P, R | None]:
        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | None:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                report(where, exc)
                if is_strict():
                    raise
                return None

        return wrapper

    return decorate
