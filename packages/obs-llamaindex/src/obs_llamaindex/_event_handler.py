"""The event handler: routes LlamaIndex instrumentation events to the span handler's tracker.

Routing only. Each event type maps to one small function that picks the event's fields and calls
the tracker; unknown events cost one dictionary lookup. Events are matched by class (and, for
subclasses such as ``SparseEmbeddingStartEvent``, by their nearest routed base class).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent
from llama_index.core.instrumentation.events.embedding import EmbeddingStartEvent
from llama_index.core.instrumentation.events.exception import ExceptionEvent
from llama_index.core.instrumentation.events.llm import (
    LLMChatEndEvent,
    LLMChatInProgressEvent,
    LLMChatStartEvent,
    LLMCompletionEndEvent,
    LLMCompletionInProgressEvent,
    LLMCompletionStartEvent,
)
from llama_index.core.instrumentation.events.query import QueryStartEvent
from llama_index.core.instrumentation.events.rerank import ReRankEndEvent, ReRankStartEvent
from llama_index.core.instrumentation.events.retrieval import RetrievalStartEvent
from llama_index.core.instrumentation.events.synthesis import SynthesizeStartEvent
from pydantic import PrivateAttr

from obs_core import semconv as sc
from obs_core.integration import guarded
from obs_llamaindex._span_handler import ObsSpanHandler, private_tracker
from obs_llamaindex._tracker import Tracker

Route = Callable[[Tracker, Any], None]


def _chat_started(t: Tracker, e: Any) -> None:
    t.llm_started(e.span_id, operation=sc.OP_CHAT, messages=e.messages,
                  call_kwargs=e.additional_kwargs)


def _completion_started(t: Tracker, e: Any) -> None:
    t.llm_started(e.span_id, operation=sc.OP_TEXT_COMPLETION, prompt=e.prompt,
                  call_kwargs=e.additional_kwargs)


def _llm_chunk(t: Tracker, e: Any) -> None:
    t.llm_chunk(e.span_id, e.response)


def _llm_ended(t: Tracker, e: Any) -> None:
    t.llm_ended(e.span_id, e.response)


def _embedding_started(t: Tracker, e: Any) -> None:
    t.embedding_started(e.span_id)


def _retrieval_started(t: Tracker, e: Any) -> None:
    t.retrieval_started(e.span_id, e.str_or_query_bundle)


def _rerank_started(t: Tracker, e: Any) -> None:
    t.rerank_started(e.span_id, model_name=e.model_name, top_n=e.top_n, query=e.query,
                     nodes=e.nodes)


def _rerank_ended(t: Tracker, e: Any) -> None:
    t.rerank_ended(e.span_id, e.nodes)


def _query_started(t: Tracker, e: Any) -> None:
    t.chain_started(e.span_id, e.query)


def _exception(t: Tracker, e: Any) -> None:
    t.stream_failed(e.span_id, e.exception)


def _cancelled(t: Tracker, e: Any) -> None:
    t.cancelled(e.span_id)


_ROUTES: dict[type, Route] = {
    LLMChatStartEvent: _chat_started,
    LLMCompletionStartEvent: _completion_started,
    LLMChatInProgressEvent: _llm_chunk,
    LLMCompletionInProgressEvent: _llm_chunk,
    LLMChatEndEvent: _llm_ended,
    LLMCompletionEndEvent: _llm_ended,
    EmbeddingStartEvent: _embedding_started,
    RetrievalStartEvent: _retrieval_started,
    ReRankStartEvent: _rerank_started,
    ReRankEndEvent: _rerank_ended,
    QueryStartEvent: _query_started,
    SynthesizeStartEvent: _query_started,
    ExceptionEvent: _exception,
}
try:  # fired by the workflows runtime when a run or step is cancelled (recent releases only)
    from workflows.runtime.types.step_function import SpanCancelledEvent
except ImportError:  # pragma: no cover - older releases
    pass
else:
    _ROUTES[SpanCancelledEvent] = _cancelled


def _route_for(cls: type) -> Route | None:
    """The route of ``cls``'s nearest routed base class; cached per class."""
    route = next((_ROUTES[base] for base in cls.__mro__[1:] if base in _ROUTES), None)
    _ROUTES[cls] = route if route is not None else _ignore
    return route


def _ignore(t: Tracker, e: Any) -> None:
    return None


class ObsEventHandler(BaseEventHandler):
    """Tells an :class:`~obs_llamaindex.ObsSpanHandler` what its spans were: model calls,
    embeddings, retrievals, reranks, queries; and when streams chunk, end or fail."""

    _tracker: Tracker = PrivateAttr()

    def __init__(self, *, span_handler: ObsSpanHandler) -> None:
        super().__init__()
        self._tracker = span_handler.tracker

    @classmethod
    def class_name(cls) -> str:
        return "ObsEventHandler"

    @guarded("llamaindex.event")
    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        route = _ROUTES.get(type(event))
        if route is None:
            route = _route_for(type(event))
        if route is not None:
            route(private_tracker(self), event)
