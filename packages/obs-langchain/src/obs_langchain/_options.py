"""The handler's options, as one keyword-only record."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(kw_only=True, frozen=True, slots=True)
class HandlerOptions:
    """How :class:`~obs_langchain.ObsCallbackHandler` maps LangChain runs to spans."""

    keep_langgraph_internals: bool = False
    """Keep LangGraph plumbing as spans: runs tagged ``langsmith:hidden`` and the writers and
    routing functions that follow a node's own work. Off by default: the tree shows graphs,
    nodes and the model, tool and retriever calls inside them."""
    capture_metadata_keys: frozenset[str] | None = None
    """Which scalar run-metadata keys become ``obs.metadata.<key>`` attributes. ``None``: every
    key the application set (LangChain's and LangGraph's own keys are always left out); an
    empty set: none. Identity keys (``thread_id``, ``session_id``, ``conversation_id``,
    ``user_id``, ``user_cohort``, ``pipeline_version``) always map to their own attributes."""

    @classmethod
    def build(cls, *, keep_langgraph_internals: bool = False,
              capture_metadata_keys: Iterable[str] | None = None) -> HandlerOptions:
        if isinstance(capture_metadata_keys, str):
            raise TypeError("capture_metadata_keys must be a collection of keys, not a string")
        keys = None if capture_metadata_keys is None else frozenset(capture_metadata_keys)
        return cls(keep_langgraph_internals=bool(keep_langgraph_internals),
                   capture_metadata_keys=keys)
