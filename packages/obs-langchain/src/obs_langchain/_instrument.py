"""``instrument()`` / ``uninstrument()``: one handler on every LangChain run, no code changes.

langchain-core asks each registered *configure hook* for a handler whenever it builds the
callbacks of a run (``langchain_core.tracers.context.register_configure_hook``; LangSmith's
tracer is injected the same way). The hook is given a variable to read; langchain-core only
ever calls its ``get()``. obs hands it a process-wide slot rather than a ``ContextVar`` so that
threads and tasks started before or after ``instrument()`` all see the same handler, and so that
emptying the slot switches tracing off everywhere at once. Nothing is patched.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from contextvars import ContextVar
from typing import Any, cast

from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import TracerProvider

from obs_langchain._compat import register_configure_hook
from obs_langchain._handler import ObsCallbackHandler

logger = logging.getLogger("obs.langchain")


class _HandlerSlot:
    """Stands where langchain-core expects a context variable: ``get()`` is all it calls."""

    def __init__(self) -> None:
        self.handler: ObsCallbackHandler | None = None

    def get(self, default: Any = None) -> ObsCallbackHandler | None:
        return self.handler


_slot = _HandlerSlot()
_lock = threading.Lock()
_registered = False


def instrument(*, tracer_provider: TracerProvider | None = None,
               meter_provider: MeterProvider | None = None,
               keep_langgraph_internals: bool = False,
               capture_metadata_keys: Iterable[str] | None = None) -> ObsCallbackHandler:
    """Trace every LangChain and LangGraph run in this process with one shared handler.

    Idempotent: while instrumented, further calls return the active handler unchanged (call
    :func:`uninstrument` first to change options). Options are those of
    :class:`ObsCallbackHandler`. Do not also pass an ``ObsCallbackHandler`` in ``callbacks``
    while instrumented, or each run is recorded twice.
    """
    global _registered
    with _lock:
        if _slot.handler is not None:
            logger.debug("obs-langchain is already instrumented; keeping the active handler")
            return _slot.handler
        handler = ObsCallbackHandler(
            tracer_provider=tracer_provider, meter_provider=meter_provider,
            keep_langgraph_internals=keep_langgraph_internals,
            capture_metadata_keys=capture_metadata_keys,
        )
        if not _registered:
            register_configure_hook(cast("ContextVar[Any | None]", _slot), True)
            _registered = True
        _slot.handler = handler
        return handler


def uninstrument() -> None:
    """Stop tracing runs that start from now on and unregister the hook. Runs already in
    flight keep their handler and finish their spans normally. Safe to call at any time."""
    global _registered
    with _lock:
        _slot.handler = None
        hooks = _registered_hooks()
        if _registered and hooks is not None:
            hooks[:] = [entry for entry in hooks if entry[0] is not _slot]
            _registered = False
        # Without access to the registry the hook stays registered but inert: the slot is empty.


def instrumented_handler() -> ObsCallbackHandler | None:
    """The handler ``instrument()`` installed, if instrumented."""
    return _slot.handler


def _registered_hooks() -> list[Any] | None:
    """langchain-core's hook registry, when this version exposes it (used only to unregister)."""
    try:
        from langchain_core.tracers import context
    except ImportError:  # pragma: no cover
        return None
    hooks = getattr(context, "_configure_hooks", None)
    return hooks if isinstance(hooks, list) else None
