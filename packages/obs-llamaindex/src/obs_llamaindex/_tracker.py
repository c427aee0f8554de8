"""What each LlamaIndex dispatcher span became: a visible run, hidden plumbing, or nothing.

LlamaIndex opens a dispatcher span for almost every method of its components, so one query emits
a dozen spans of which four matter. Most spans cannot be judged when they open; the framework
says what they were with the event it fires first inside them (``LLMChatStartEvent``,
``RetrievalStartEvent``, ``QueryStartEvent``...). So every span starts *pending*, which costs one
small record and no recorder call:

* a start event fired inside it promotes it to a visible run of that kind;
* a descendant that needs a parent turns it into a hidden run (no span; children attach to the
  nearest visible ancestor);
* if it ends first, it was plumbing and leaves no trace at all.

Tools, workflow runs and steps, and chat engines are recognised from their type when they open.
A model call nested in another model call (``chat`` implemented with ``complete``, say) stays
plumbing, so there is exactly one LLM span per call. A streamed model call ends when its stream
ends (LlamaIndex's end event), not when the generator is handed out.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from obs_core.integration import Recorder, RunEnd, RunStart, count_drop, guard
from obs_core.spans import SpanKind
from obs_llamaindex import _attributes as attributes
from obs_llamaindex import _readers as readers
from obs_llamaindex._agents import (
    STOP_CANCELLED,
    STOP_FINAL_ANSWER,
    STOP_MAX_ITERATIONS,
    Flow,
    FlowKind,
    open_flow,
    step_event_of,
)
from obs_llamaindex._framework import Framework
from obs_llamaindex._identity import TAG_PREFIX, Identity, current_tags
from obs_llamaindex._records import (
    HIDDEN,
    MAX_DEPTH,
    PENDING,
    VISIBLE,
    SpanRecord,
    is_stream,
    run_parent,
    visible_ancestor,
)

_TOOL_METHODS = frozenset({"call", "acall", "__call__"})
_CHAT_METHODS = frozenset({"chat", "achat", "stream_chat", "astream_chat"})
_POSTPROCESS_METHODS = frozenset({"_postprocess_nodes", "_apostprocess_nodes"})
_STREAM_METHODS = frozenset({"stream_chat", "astream_chat", "stream_complete", "astream_complete"})
_ACTIVATED = frozenset({SpanKind.CHAIN, SpanKind.AGENT, SpanKind.TOOL, SpanKind.RETRIEVER,
                        SpanKind.EMBEDDING, SpanKind.RERANKER})
"""Runs made current while they execute, so spans other code opens nest under them. Model calls
are not: a streamed call outlives the method that started it."""
_HIDDEN = RunStart(kind=SpanKind.CHAIN, name="llamaindex", hidden=True)


class Tracker:
    """Turns dispatcher span and event callbacks into recorder runs. Thread-safe: state changes
    that must not interleave (starting a run and its hidden ancestors) happen under a lock."""

    def __init__(self, recorder: Recorder, *, fw: Framework, identity: Identity,
                 max_spans: int = 100_000) -> None:
        self.recorder = recorder
        self._fw = fw
        self._identity = identity.as_fields()
        settings = recorder.settings
        self._capture = bool(settings.content_on_spans or settings.observers)
        self._spans: dict[str, SpanRecord] = {}
        self._lock = threading.RLock()
        self._max_spans = max_spans
        self._event_reranks: dict[str, str] = {}
        """Dispatcher span id -> reranker run opened by a rerank event inside it (see
        :meth:`rerank_started`)."""

    @property
    def tracked_span_count(self) -> int:
        return len(self._spans)

    # ------------------------------------------------------------------ dispatcher spans
    def enter(self, span_id: str, instance: Any, parent_id: str | None, bound_args: Any) -> None:
        if len(self._spans) >= self._max_spans:
            count_drop("llamaindex_span_limit")
            return
        parent = self._spans.get(parent_id) if parent_id is not None else None
        qualname = readers.span_qualname(span_id)
        span = SpanRecord(span_id, parent, instance, qualname, time.time_ns(),
                     parent.in_workflow if parent is not None else False)
        self._spans[span_id] = span
        fw = self._fw
        if instance is None:
            if parent is not None and parent.flow is not None and parent.flow.span_id == parent.id:
                self._enter_step(span, parent.flow, bound_args)
            return
        method = readers.method_of(qualname)
        if method in _TOOL_METHODS and isinstance(instance, fw.tool):
            self._enter_tool(span, bound_args)
        elif method == "run" and isinstance(instance, fw.workflow):
            self._enter_workflow(span, bound_args)
        elif method in _POSTPROCESS_METHODS and isinstance(instance, fw.node_postprocessor):
            self._enter_postprocessor(span, bound_args)
        elif method in _CHAT_METHODS and isinstance(instance, fw.chat_engine):
            capture = self._capture
            self._start(span, lambda: attributes.chain_start(
                qualname, inputs=bound_args.arguments.get("message") if capture else None,
                start_time_ns=span.start_ns), kind=SpanKind.CHAIN)

    def exit(self, span_id: str, result: Any) -> None:
        span = self._spans.pop(span_id, None)
        if span is None:
            count_drop("llamaindex_exit_without_enter")
            return
        if self._event_reranks:
            self._abandon_event_rerank(span_id, "rerank_end_missing")
        if span.flow is not None and span.flow.span_id == span_id:
            self._finish_flow(span, result=result, error=None)
            return
        if span.state == PENDING:
            return
        if span.state == HIDDEN:
            self.recorder.end(span_id)
            return
        kind = span.kind
        capture = self._capture
        if kind is SpanKind.LLM:
            if not span.end_seen and is_stream(result):
                self._defer(span, result)
                return
            response = span.response if span.end_seen else result
            reasons = span.finish_reasons or ()
            self.recorder.end(span_id, self._mapped(lambda: attributes.llm_end(
                response, streamed_finish_reasons=reasons, capture=capture)))
        elif kind is SpanKind.EMBEDDING:
            self.recorder.end(span_id, self._mapped(lambda: attributes.embedding_end(result)))
        elif kind is SpanKind.RETRIEVER or kind is SpanKind.RERANKER:
            self.recorder.end(span_id, self._mapped(
                lambda: attributes.retrieval_end(result, capture=capture)))
        elif kind is SpanKind.TOOL:
            failure = None
            with guard("llamaindex.tool_result"):
                failure = attributes.tool_failure(result)
            if failure is not None:
                self.recorder.error(span_id, failure)
            else:
                self.recorder.end(span_id, self._mapped(
                    lambda: attributes.tool_end(result, capture=capture)))
        elif span.cancelled:
            self.recorder.error(span_id, "cancelled", control_flow=True, stop_reason=STOP_CANCELLED)
        else:
            self.recorder.end(span_id, self._mapped(
                lambda: attributes.chain_end(result, capture=capture)))

    def drop(self, span_id: str, error: BaseException | None) -> None:
        span = self._spans.pop(span_id, None)
        if span is None:
            count_drop("llamaindex_exit_without_enter")
            return
        err: BaseException | str = error if error is not None else "dropped"
        if self._event_reranks:
            self._abandon_event_rerank(span_id, err)
        control = isinstance(err, BaseException) and readers.is_control_flow(
            err, self._fw.control_flow, in_workflow=span.in_workflow)
        if span.flow is not None and span.flow.span_id == span_id:
            self._finish_flow(span, result=None, error=err, control_flow=control)
        elif span.state != PENDING:
            self.recorder.error(span_id, err, control_flow=control)

    def close(self) -> None:
        """End everything still open (shutdown, ``uninstrument()``)."""
        for span in list(self._spans.values()):
            if span.finalizer is not None:
                span.finalizer.detach()
        self._spans.clear()
        self.recorder.close()

    # ------------------------------------------------------------------ framework events
    def llm_started(self, span_id: str | None, *, operation: str, messages: Any = None,
                    prompt: Any = None, call_kwargs: Any = None) -> None:
        span = self._promotable(span_id, SpanKind.LLM)
        if span is None:
            return
        instance = span.instance
        stream = readers.method_of(span.qualname) in _STREAM_METHODS
        capture = self._capture
        self._start(span, lambda: attributes.llm_start(
            instance, operation=operation, stream=stream,
            call_kwargs=call_kwargs if isinstance(call_kwargs, Mapping) else None,
            messages=messages, prompt=prompt if isinstance(prompt, str) else None,
            capture=capture, start_time_ns=span.start_ns),
            kind=SpanKind.LLM, operation=operation, activate=not stream)

    def llm_chunk(self, span_id: str | None, response: Any) -> None:
        span = self._spans.get(span_id) if span_id is not None else None
        if span is None or span.kind is not SpanKind.LLM:
            return
        if not span.first_chunk_seen:
            span.first_chunk_seen = True
            self.recorder.first_chunk(span_id)
        reasons = readers.finish_reasons_of(getattr(response, "raw", None))
        if reasons:
            span.finish_reasons = reasons

    def llm_ended(self, span_id: str | None, response: Any) -> None:
        span = self._spans.get(span_id) if span_id is not None else None
        if span is None or span.kind is not SpanKind.LLM:
            return
        span.response, span.end_seen = response, True
        if span.streaming:
            self._finish_stream(span, None)

    def stream_failed(self, span_id: str | None, error: BaseException) -> None:
        span = self._spans.get(span_id) if span_id is not None else None
        if span is not None and span.streaming:
            self._finish_stream(span, error)

    def embedding_started(self, span_id: str | None) -> None:
        span = self._promotable(span_id, SpanKind.EMBEDDING)
        if span is not None:
            instance = span.instance
            self._start(span, lambda: attributes.embedding_start(instance,
                                                                 start_time_ns=span.start_ns),
                        kind=SpanKind.EMBEDDING)

    def retrieval_started(self, span_id: str | None, query: Any) -> None:
        span = self._promotable(span_id, None)
        if span is not None:
            capture = self._capture
            self._start(span, lambda: attributes.retrieval_start(
                span.instance, query, capture=capture, start_time_ns=span.start_ns),
                kind=SpanKind.RETRIEVER)

    def rerank_started(self, span_id: str | None, *, model_name: Any, top_n: Any,
                       query: Any, nodes: Any = None) -> None:
        known = self._spans.get(span_id) if span_id is not None else None
        if known is not None and known.kind is SpanKind.RERANKER:
            # Started from its postprocessor type; the event may name the model more exactly.
            details: dict[str, Any] = {}
            with guard("llamaindex.rerank_details"):
                details = attributes.rerank_details(model_name=model_name, top_n=top_n)
            if details:
                self.recorder.set_attributes(known.id, details)
            return
        if known is not None and known.state != PENDING:
            self._start_event_rerank(known, model_name=model_name, top_n=top_n, query=query,
                                     nodes=nodes)
            return
        span = self._promotable(span_id, None)
        if span is not None:
            capture = self._capture
            self._start(span, lambda: attributes.rerank_start(
                span.instance, model_name=model_name, top_n=top_n, query=query, capture=capture,
                start_time_ns=span.start_ns, nodes=nodes), kind=SpanKind.RERANKER)

    def rerank_ended(self, span_id: str | None, nodes: Any) -> None:
        """Ends the run :meth:`_start_event_rerank` opened; a reranker run started from its own
        span ends with that span instead."""
        run_id = self._event_reranks.pop(span_id, None) if span_id is not None else None
        if run_id is not None:
            capture = self._capture
            self.recorder.end(run_id, self._mapped(
                lambda: attributes.retrieval_end(nodes, capture=capture)))

    def _start_event_rerank(self, enclosing: SpanRecord, *, model_name: Any, top_n: Any,
                            query: Any, nodes: Any) -> None:
        """A rerank event inside a span that is already something else: a reranker whose
        method LlamaIndex does not wrap in a span (the async ``_apostprocess_nodes`` overrides).
        The run lives from this event to ``ReRankEndEvent``, as a child of the enclosing run."""
        if enclosing.id in self._event_reranks:
            return
        run_id = f"{enclosing.id}/rerank"
        capture = self._capture
        start: RunStart | None = None
        with guard("llamaindex.start_attributes"):
            start = attributes.event_rerank_start(model_name=model_name, top_n=top_n,
                                                  query=query, nodes=nodes, capture=capture)
        self._event_reranks[enclosing.id] = run_id
        self.recorder.start(run_id, enclosing.id, start or RunStart(kind=SpanKind.RERANKER,
                                                                    name="reranker"))

    def _abandon_event_rerank(self, span_id: str, error: BaseException | str) -> None:
        """Its enclosing span ended before ``ReRankEndEvent``: the reranker raised."""
        run_id = self._event_reranks.pop(span_id, None)
        if run_id is not None:
            self.recorder.error(run_id, error)

    def chain_started(self, span_id: str | None, query: Any) -> None:
        """A query engine or response synthesizer began (its start event names the query)."""
        span = self._promotable(span_id, None)
        if span is not None:
            capture = self._capture
            self._start(span, lambda: attributes.chain_start(
                span.qualname,
                inputs=readers.text_of_query(query) if capture and query is not None else None,
                start_time_ns=span.start_ns), kind=SpanKind.CHAIN)

    def cancelled(self, span_id: str | None) -> None:
        span = self._spans.get(span_id) if span_id is not None else None
        if span is not None:
            span.cancelled = True

    def _with_identity(self, start: RunStart) -> RunStart:
        """A trace's first run carries the identity: the session's tags over the defaults."""
        fields = dict(self._identity)
        fields.update(readers.identity_from_tags(current_tags(), TAG_PREFIX))
        missing: dict[str, Any] = {k: v for k, v in fields.items() if getattr(start, k) is None}
        return dataclasses.replace(start, **missing) if missing else start

    # ------------------------------------------------------------------ internals
    def _enter_tool(self, span: SpanRecord, bound_args: Any) -> None:
        ancestor = visible_ancestor(span)
        if ancestor is not None and ancestor.kind is SpanKind.TOOL:
            return  # an adapter or ``__call__`` delegating to the same tool call
        call_id = self._tool_call_id(span)
        skip, capture, instance = self._fw.workflow_context, self._capture, span.instance
        self._start(span, lambda: attributes.tool_start(
            instance, call_id=call_id,
            inputs=readers.bound_inputs(bound_args, skip=skip) if capture else None,
            start_time_ns=span.start_ns), kind=SpanKind.TOOL)

    def _enter_postprocessor(self, span: SpanRecord, bound_args: Any) -> None:
        """A reranker or other node postprocessor: a reranker run from the moment it opens, so
        the model calls it makes nest under it, whether or not it fires rerank events."""
        ancestor = visible_ancestor(span)
        if ancestor is not None and ancestor.instance is span.instance:
            return  # the async entry point delegating to the sync one
        capture, instance = self._capture, span.instance
        self._start(span, lambda: attributes.postprocessor_start(
            instance, bound_args=bound_args, capture=capture, start_time_ns=span.start_ns),
            kind=SpanKind.RERANKER)

    def _tool_call_id(self, span: SpanRecord) -> str | None:
        node, depth = span.parent, 0
        while node is not None and depth < 8:
            if node.step_event is not None:
                tool_id = getattr(node.step_event, "tool_id", None)
                return tool_id if isinstance(tool_id, str) else None
            node, depth = node.parent, depth + 1
        return None

    def _enter_workflow(self, span: SpanRecord, bound_args: Any) -> None:
        span.in_workflow = True
        holder: list[Flow] = []

        def build() -> RunStart:
            flow, start = open_flow(span.id, span.instance, bound_args, tags=current_tags(),
                                    fw=self._fw, capture=self._capture,
                                    start_time_ns=span.start_ns)
            holder.append(flow)
            return start

        self._start(span, build, kind=SpanKind.CHAIN, operation="invoke_workflow")
        span.flow = holder[0] if holder else Flow(span_id=span.id, kind=FlowKind.WORKFLOW)

    def _enter_step(self, span: SpanRecord, flow: Flow, bound_args: Any) -> None:
        span.flow = flow
        event = step_event_of(bound_args, self._fw)
        span.step_event = event
        with guard("llamaindex.step"), self._lock:  # sync steps run on executor threads
            span.run_parent = flow.step_parent(event, self.recorder, self._fw)
        if flow.kind is FlowKind.WORKFLOW:
            self._start(span, lambda: attributes.chain_start(span.qualname, inputs=None,
                                                             start_time_ns=span.start_ns),
                        kind=SpanKind.CHAIN)

    def _finish_flow(self, span: SpanRecord, *, result: Any, error: BaseException | str | None,
                     control_flow: bool = False) -> None:
        flow = span.flow
        assert flow is not None  # callers check; narrows the type
        if span.cancelled and error is None:
            error, control_flow = "cancelled", True
        flow.close_turn(self.recorder, result=result, error=error, control_flow=control_flow)
        if span.state == PENDING:
            return
        limit = flow.limit_reached and flow.kind is FlowKind.AGENT
        capture = self._capture
        if error is None:
            if flow.kind is FlowKind.AGENT:
                stop = STOP_MAX_ITERATIONS if limit else STOP_FINAL_ANSWER
                end = self._mapped(lambda: attributes.agent_end(
                    result, limit_reached=limit, stop_reason=stop, capture=capture))
            else:
                end = self._mapped(lambda: attributes.chain_end(result, capture=capture))
            self.recorder.end(span.id, end)
        elif control_flow:
            self.recorder.error(span.id, error, control_flow=True, stop_reason=STOP_CANCELLED)
        else:
            self.recorder.error(span.id, error, limit_reached=limit,
                                stop_reason=STOP_MAX_ITERATIONS if limit else None)

    def _promotable(self, span_id: str | None, nested_kind: SpanKind | None) -> SpanRecord | None:
        """The pending span a start event is about, unless it is a repeat of an enclosing run
        of ``nested_kind`` (the same model or embedding call seen one layer down)."""
        span = self._spans.get(span_id) if span_id is not None else None
        if span is None:
            count_drop("llamaindex_event_without_span")
            return None
        if span.state != PENDING:
            return None
        if nested_kind is not None:
            ancestor = visible_ancestor(span)
            if ancestor is not None and ancestor.kind is nested_kind:
                return None
        return span

    def _start(self, span: SpanRecord, build: Callable[[], RunStart], *, kind: SpanKind,
               operation: str | None = None, activate: bool = True) -> None:
        """Start ``span``'s visible run; when ``build`` fails, a bare run of ``kind`` still
        starts, so parents and ends stay balanced."""
        built: RunStart | None = None
        with guard("llamaindex.start_attributes"):
            built = build()
        start = built if built is not None else RunStart(kind=kind, name=span.qualname,
                                                         operation=operation)
        with self._lock:
            if span.state != PENDING:
                return
            parent_run = self._ensure_parent(span)
            if parent_run is None:
                start = self._with_identity(start)
            self.recorder.start(span.id, parent_run, start)
            span.state, span.kind = VISIBLE, start.kind
        if activate and start.kind in _ACTIVATED:
            self.recorder.activate(span.id)

    def _ensure_parent(self, span: SpanRecord) -> str | None:
        """Start hidden runs for pending ancestors (outermost first); the run id to attach
        ``span`` to. Called under the lock."""
        chain: list[SpanRecord] = []
        node, depth = span.parent, 0
        while node is not None and node.state == PENDING and depth < MAX_DEPTH:
            chain.append(node)
            node, depth = node.parent, depth + 1
        for pending in reversed(chain):
            parent_run = run_parent(pending)
            hidden = _HIDDEN if parent_run is not None else self._with_identity(_HIDDEN)
            self.recorder.start(pending.id, parent_run, hidden)
            pending.state = HIDDEN
        return run_parent(span)

    def _defer(self, span: SpanRecord, stream: Any) -> None:
        """Keep a streamed model call open until its stream ends, fails or is dropped unread."""
        span.streaming = True
        self._spans[span.id] = span
        try:
            span.finalizer = weakref.finalize(stream, self._abandoned, span.id)
        except TypeError:  # cannot be weakly referenced: the end or error event must do
            span.finalizer = None

    def _abandoned(self, span_id: str) -> None:
        """The stream was garbage-collected before it ended: nobody will read the rest."""
        with guard("llamaindex.stream_abandoned"):
            span = self._spans.get(span_id)
            if span is not None and span.streaming and self._spans.pop(span_id, None) is span:
                self.recorder.error(span_id, "stream_abandoned", control_flow=True)

    def _finish_stream(self, span: SpanRecord, error: BaseException | None) -> None:
        if self._spans.pop(span.id, None) is None:
            return
        if span.finalizer is not None:
            span.finalizer.detach()
            span.finalizer = None
        if error is not None:
            control = readers.is_control_flow(error, self._fw.control_flow,
                                                 in_workflow=span.in_workflow)
            self.recorder.error(span.id, error, control_flow=control)
            return
        response, reasons, capture = span.response, span.finish_reasons or (), self._capture
        self.recorder.end(span.id, self._mapped(lambda: attributes.llm_end(
            response, streamed_finish_reasons=reasons, capture=capture)))

    @staticmethod
    def _mapped(build: Callable[[], RunEnd]) -> RunEnd:
        """``build()``, or a bare end when mapping failed: the run still ends."""
        end: RunEnd | None = None
        with guard("llamaindex.end_attributes"):
            end = build()
        return end if end is not None else RunEnd()

