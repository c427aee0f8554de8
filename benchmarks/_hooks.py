"""Hooking a handler into a framework the way obs does, for the reference modes.

LangChain: an inline handler behind a configure hook, so every run sees it without being passed
it. LlamaIndex: a span handler on the root dispatcher; :func:`quiet_span_handler` is one whose
every callback does nothing, to subclass.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any


def attach_langchain_handler(handler: Any, name: str) -> None:
    from langchain_core.tracers.context import register_configure_hook

    slot: ContextVar[Any] = ContextVar(name, default=None)
    slot.set(handler)
    register_configure_hook(slot, True)


def quiet_span_handler() -> type[Any]:
    from llama_index.core.instrumentation.span import SimpleSpan
    from llama_index.core.instrumentation.span_handlers import BaseSpanHandler

    class QuietSpanHandler(BaseSpanHandler[SimpleSpan]):
        def span_enter(self, *args: Any, **kwargs: Any) -> None:
            return None

        def span_exit(self, *args: Any, **kwargs: Any) -> None:
            return None

        def span_drop(self, *args: Any, **kwargs: Any) -> None:
            return None

        def new_span(self, *args: Any, **kwargs: Any) -> None:
            return None

        def prepare_to_exit_span(self, *args: Any, **kwargs: Any) -> None:
            return None

        def prepare_to_drop_span(self, *args: Any, **kwargs: Any) -> None:
            return None

    return QuietSpanHandler
