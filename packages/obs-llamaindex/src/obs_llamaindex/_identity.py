"""Who a trace is for: conversation, user, cohort and pipeline version.

``session()`` stores them as LlamaIndex *instrument tags*, the framework's own context-local
metadata, which follows work into the asyncio tasks a workflow creates and is carried with a
workflow's propagation context when a run continues elsewhere. The handlers read them when a
trace's first span starts; the recorder hands them down to every span below.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

TAG_PREFIX = "obs."
"""Instrument-tag keys are ``obs.conversation_id``, ``obs.user_id``, ``obs.user_cohort`` and
``obs.pipeline_version``."""

_fallback_tags: contextvars.ContextVar[Mapping[str, Any] | None] = contextvars.ContextVar(
    "obs_llamaindex_tags", default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Identity:
    """Identity defaults for traces that do not set their own."""

    conversation_id: str | None = None
    """Session or conversation id (``gen_ai.conversation.id``)."""
    user_id: str | None = None
    """End user id (``user.id``)."""
    user_cohort: str | None = None
    """Experiment arm or customer segment (``obs.user.cohort``)."""
    pipeline_version: str | None = None
    """Version of the application's prompt/index/agent setup (``obs.pipeline.version``)."""

    def as_fields(self) -> dict[str, str]:
        return {k: v for k, v in (("conversation_id", self.conversation_id),
                                  ("user_id", self.user_id),
                                  ("user_cohort", self.user_cohort),
                                  ("pipeline_version", self.pipeline_version)) if v}


@functools.lru_cache(maxsize=1)
def _tag_functions() -> tuple[Any, Any] | None:
    try:
        from llama_index.core.instrumentation.dispatcher import (  # type: ignore[attr-defined] # re-exported without __all__
            active_instrument_tags,
            instrument_tags,
        )
    except ImportError:  # releases without instrument tags: obs keeps its own context variable
        return None
    return active_instrument_tags, instrument_tags


def current_tags() -> Mapping[str, Any]:
    """The instrument tags of the calling context."""
    functions = _tag_functions()
    tags = functions[0].get() if functions is not None else _fallback_tags.get()
    return tags if isinstance(tags, Mapping) else {}


@contextlib.contextmanager
def session(*, conversation_id: str | None = None, user_id: str | None = None,
            user_cohort: str | None = None, pipeline_version: str | None = None) -> Iterator[None]:
    """Attach identity to every trace LlamaIndex starts inside the block (and inside the tasks
    and workflow runs it starts). Nested blocks override the fields they set."""
    fields = Identity(conversation_id=conversation_id, user_id=user_id, user_cohort=user_cohort,
                      pipeline_version=pipeline_version).as_fields()
    tags = {**current_tags(), **{TAG_PREFIX + k: v for k, v in fields.items()}}
    functions = _tag_functions()
    if functions is not None:
        with functions[1](tags):
            yield
        return
    token = _fallback_tags.set(tags)
    try:
        yield
    finally:
        _fallback_tags.reset(token)
