"""``ObsCallbackHandler``: routes LangChain callback events to the obs recorder.

Routing only: mapping lives in :mod:`obs_langchain._attributes`, agent facts in
:mod:`obs_langchain._agents`. Every callback body runs under :func:`obs_core.integration.guard`,
and a record that fails to build falls back to a minimal one, so each run LangChain starts
still gets exactly one span end and the application never sees an obs exception.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar
from uuid import UUID

from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import TracerProvider

from obs_core import semconv as sc
from obs_core.integration import (
    Recorder,
    RunEnd,
    RunStart,
    current_settings,
    ensure_configured,
    guard,
)
from obs_core.spans import SpanKind
from obs_langchain import _agents, _attributes, _model_attributes
from obs_langchain._compat import BaseCallbackHandler
from obs_langchain._context import Activations
from obs_langchain._options import HandlerOptions
from obs_langchain._runs import RunTable, Tracked

_T = TypeVar("_T")
_HIDDEN_TAG = "langsmith:hidden"
_TASK_TAG = "graph:step:"
_SEQUENCE_TAG = "seq:step:"


def _is_task(tags: Sequence[str] | None) -> bool:
    return bool(tags) and any(isinstance(t, str) and t.startswith(_TASK_TAG) for t in tags or ())


def _is_plumbing(tags: Sequence[str] | None, parent: Tracked | None) -> bool:
    """LangGraph plumbing: hidden-tagged runs, and the writers and routing functions a task
    runs after its own work (steps 2+ of the task's sequence)."""
    if not tags:
        return False
    if _HIDDEN_TAG in tags:
        return True
    if parent is None or not parent.is_task:
        return False
    return any(isinstance(t, str) and t.startswith(_SEQUENCE_TAG) and t != "seq:step:1"
               for t in tags)


def _attempt(where: str, build: Callable[[], _T]) -> _T | None:
    """``build()``, or ``None`` when it failed (the failure is contained and counted)."""
    with guard(where):
        return build()
    return None  # the guard swallowed an exception


class ObsCallbackHandler(BaseCallbackHandler):
    """Turns every LangChain run it sees into OpenTelemetry GenAI spans.

    One handler may be shared by any number of threads, tasks and concurrent invocations. It
    runs inline (``run_inline``) so that, in async code too, it sees events in order and in the
    run's own context: spans that code opens inside a model or tool call nest under obs's span.

    Args:
        tracer_provider: Where spans go; the global provider when ``None`` (obs configures
            itself with defaults then, unless the application set up OpenTelemetry).
        meter_provider: Where span-derived metrics go; the global provider when ``None``.
        keep_langgraph_internals: See :attr:`HandlerOptions.keep_langgraph_internals`.
        capture_metadata_keys: See :attr:`HandlerOptions.capture_metadata_keys`.
    """

    raise_error = False
    run_inline = True

    def __init__(self, *, tracer_provider: TracerProvider | None = None,
                 meter_provider: MeterProvider | None = None,
                 keep_langgraph_internals: bool = False,
                 capture_metadata_keys: Iterable[str] | None = None) -> None:
        super().__init__()
        self.options = HandlerOptions.build(keep_langgraph_internals=keep_langgraph_internals,
                                            capture_metadata_keys=capture_metadata_keys)
        if tracer_provider is None:
            ensure_configured()
        self._recorder = Recorder(tracer_provider=tracer_provider, meter_provider=meter_provider,
                                  settings=current_settings())
        self._runs = RunTable(self._recorder)
        self._activations = Activations(self._recorder)

    @property
    def recorder(self) -> Recorder:
        """The recorder behind this handler (open runs, agent summaries, sweeping)."""
        return self._recorder

    def close(self) -> None:
        """End every run still open as an orphan; for shutdown."""
        self._recorder.close()

    # ------------------------------------------------------------------ plumbing
    def _payloads(self) -> bool:
        settings = self._recorder.settings
        return settings.content_on_spans or bool(settings.observers)

    def _begin(self, where: str, run_id: UUID, parent_run_id: UUID | None, tracked: Tracked,
               build: Callable[[], RunStart], *, activate: bool = True) -> None:
        start = _attempt(where, build)
        if start is None:
            start = RunStart(kind=tracked.kind, name=tracked.name)
        self._runs.add(run_id, tracked)
        self._activations.start(run_id, parent_run_id, start, activate=activate)

    def _finish(self, where: str, run_id: UUID, build: Callable[[], RunEnd]) -> None:
        self._recorder.end(run_id, _attempt(where, build))

    def _fail(self, where: str, run_id: UUID, error: BaseException) -> None:
        tracked = self._runs.pop(run_id)
        outcome = _agents.Outcome()
        with guard(where):
            outcome = _agents.classify(error)
            if tracked is not None and tracked.kind is SpanKind.LLM and tracked.agent is not None:
                tracked.agent.model_calls += 1
        agent = tracked is not None and tracked.is_agent
        reason = outcome.stop_reason if agent else None
        if outcome.stop_reason == "interrupted" and tracked is not None and tracked.agent:
            tracked.agent.interrupted = True
        if outcome.cancelled:
            self._recorder.error(run_id, "cancelled", stop_reason=reason)
        elif outcome.control_flow:
            self._recorder.error(run_id, error, control_flow=True, stop_reason=reason)
        else:
            if agent and outcome.step_limit is not None:
                self._recorder.set_step_limit(run_id, outcome.step_limit)
            self._recorder.error(run_id, error, limit_reached=agent and outcome.limit_reached,
                                 stop_reason=reason)

    def _enclosing(self, parent_run_id: UUID | None) -> tuple[Tracked | None, _agents.AgentRun | None]:
        parent = self._runs.get(parent_run_id)
        return parent, parent.agent if parent is not None else None

    def _learn_step_limit(self, agent: _agents.AgentRun | None) -> None:
        """A graph agent's ``recursion_limit`` is only visible from inside its loop."""
        if agent is None or agent.step_limit_known or agent.marker is None:
            return
        limit = _agents.recursion_limit_in_context()
        if limit is not None:
            agent.step_limit_known = True
            self._recorder.set_step_limit(agent.run_id, limit)

    # ------------------------------------------------------------------ chains and agents
    def on_chain_start(self, serialized: dict[str, Any] | None, inputs: Any, *, run_id: UUID,
                       parent_run_id: UUID | None = None, tags: list[str] | None = None,
                       metadata: dict[str, Any] | None = None, **kwargs: Any) -> None:
        with guard("langchain.on_chain_start"):
            parent, enclosing = self._enclosing(parent_run_id)
            name = _attributes.run_name(serialized, kwargs, "chain")
            tracked = Tracked(kind=SpanKind.CHAIN, name=name,
                              agent=enclosing, is_task=_is_task(tags))
            if not self.options.keep_langgraph_internals and _is_plumbing(tags, parent):
                tracked.hidden = True
                self._begin("langchain.on_chain_start", run_id, parent_run_id, tracked,
                            lambda: _attributes.hidden_start(name))
                return

            def build() -> RunStart:
                keys, payloads = self.options.capture_metadata_keys, self._payloads()
                agent = self._recognise_agent(run_id, serialized, metadata, name, enclosing)
                if agent is None:
                    return _attributes.chain_start(name=name, inputs=inputs, tags=tags,
                                                   metadata=metadata, metadata_keys=keys,
                                                   payloads=payloads)
                tracked.kind, tracked.agent, tracked.is_agent = SpanKind.AGENT, agent, True
                agent_name = (_agents.graph_agent_name(metadata or {}, name)
                              if agent.marker is not None else name)
                tracked.name = agent_name
                return _attributes.agent_start(
                    name=agent_name, step_limit=agent.max_iterations, inputs=inputs, tags=tags,
                    metadata=metadata, metadata_keys=keys, payloads=payloads)

            self._begin("langchain.on_chain_start", run_id, parent_run_id, tracked, build)

    def _recognise_agent(self, run_id: UUID, serialized: Mapping[str, Any] | None,
                         metadata: Mapping[str, Any] | None, name: str,
                         enclosing: _agents.AgentRun | None) -> _agents.AgentRun | None:
        marker = _agents.graph_marker(metadata)
        if _agents.starts_graph_agent(marker, enclosing):
            return _agents.AgentRun(run_id=run_id, marker=marker)
        if marker is not None:
            return None
        is_executor, executor = _agents.classic_executor(serialized)
        return _agents.executor_run(run_id, executor) if is_executor else None

    def on_chain_end(self, outputs: Any, *, run_id: UUID, parent_run_id: UUID | None = None,
                     **kwargs: Any) -> None:
        with guard("langchain.on_chain_end"):
            tracked = self._runs.pop(run_id)

            def build() -> RunEnd:
                if tracked is None or tracked.hidden:
                    return RunEnd()
                agent = tracked.agent
                if tracked.is_task and agent is not None and agent.marker is not None:
                    stop = _agents.node_limit_stop(tracked.name, outputs)
                    if stop is not None:
                        agent.limit_stop = stop
                payloads = self._payloads()
                if not tracked.is_agent or agent is None:
                    return _attributes.chain_end(outputs, payloads=payloads)
                if agent.executor:
                    limit, reason = agent.finish or _agents.executor_finish(agent)
                else:
                    limit, reason = _agents.graph_agent_stop(agent, outputs)
                return RunEnd(outputs=outputs if payloads else None,
                                              max_iterations_reached=limit, stop_reason=reason)

            self._finish("langchain.on_chain_end", run_id, build)

    def on_chain_error(self, error: BaseException, *, run_id: UUID,
                       parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        with guard("langchain.on_chain_error"):
            self._fail("langchain.on_chain_error", run_id, error)

    def on_agent_action(self, action: Any, *, run_id: UUID, parent_run_id: UUID | None = None,
                        **kwargs: Any) -> None:
        with guard("langchain.on_agent_action"):
            tracked = self._runs.get(run_id)
            if tracked is not None and tracked.agent is not None and tracked.agent.executor:
                _agents.executor_action(tracked.agent, getattr(action, "tool", None))

    def on_agent_finish(self, finish: Any, *, run_id: UUID, parent_run_id: UUID | None = None,
                        **kwargs: Any) -> None:
        with guard("langchain.on_agent_finish"):
            tracked = self._runs.get(run_id)
            if tracked is not None and tracked.agent is not None and tracked.agent.executor:
                tracked.agent.finish = _agents.executor_finish(tracked.agent)

    # ------------------------------------------------------------------ models
    def _model_start(self, where: str, operation: str, serialized: dict[str, Any] | None,
                     run_id: UUID, parent_run_id: UUID | None, tags: list[str] | None,
                     metadata: dict[str, Any] | None, kwargs: Mapping[str, Any],
                     inputs: Callable[[], Any]) -> None:
        _, agent = self._enclosing(parent_run_id)
        tracked = Tracked(kind=SpanKind.LLM, name="llm", agent=agent)

        def build() -> RunStart:
            return _model_attributes.model_start(
                kind_operation=operation, serialized=serialized, kwargs=kwargs, tags=tags,
                metadata=metadata, metadata_keys=self.options.capture_metadata_keys,
                inputs=inputs() if self._payloads() else None)

        self._begin(where, run_id, parent_run_id, tracked, build)
        self._learn_step_limit(agent)

    def on_chat_model_start(self, serialized: dict[str, Any], messages: list[list[Any]], *,
                            run_id: UUID, parent_run_id: UUID | None = None,
                            tags: list[str] | None = None, metadata: dict[str, Any] | None = None,
                            **kwargs: Any) -> None:
        with guard("langchain.on_chat_model_start"):
            self._model_start("langchain.on_chat_model_start", sc.OP_CHAT, serialized, run_id,
                              parent_run_id, tags, metadata, kwargs,
                              lambda: _model_attributes.chat_inputs(messages))

    def on_llm_start(self, serialized: dict[str, Any], prompts: list[str], *, run_id: UUID,
                     parent_run_id: UUID | None = None, tags: list[str] | None = None,
                     metadata: dict[str, Any] | None = None, **kwargs: Any) -> None:
        with guard("langchain.on_llm_start"):
            self._model_start("langchain.on_llm_start", sc.OP_TEXT_COMPLETION, serialized, run_id,
                              parent_run_id, tags, metadata, kwargs,
                              lambda: _model_attributes.prompt_inputs(prompts))

    def on_llm_new_token(self, token: Any, *, chunk: Any = None, run_id: UUID,
                         parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        with guard("langchain.on_llm_new_token"):
            tracked = self._runs.get(run_id)
            if tracked is not None and not tracked.streamed:
                tracked.streamed = True
                self._recorder.first_chunk(run_id)
                self._recorder.set_attributes(run_id, {sc.GEN_AI_REQUEST_STREAM: True})

    def on_llm_end(self, response: Any, *, run_id: UUID, parent_run_id: UUID | None = None,
                   **kwargs: Any) -> None:
        with guard("langchain.on_llm_end"):
            tracked = self._runs.pop(run_id)
            if tracked is not None and tracked.agent is not None:
                tracked.agent.model_calls += 1
            self._finish("langchain.on_llm_end", run_id,
                         lambda: _model_attributes.model_end(response, payloads=self._payloads()))

    def on_llm_error(self, error: BaseException, *, run_id: UUID,
                     parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        with guard("langchain.on_llm_error"):
            self._fail("langchain.on_llm_error", run_id, error)

    # ------------------------------------------------------------------ tools
    def on_tool_start(self, serialized: dict[str, Any], input_str: str, *, run_id: UUID,
                      parent_run_id: UUID | None = None, tags: list[str] | None = None,
                      metadata: dict[str, Any] | None = None, inputs: dict[str, Any] | None = None,
                      **kwargs: Any) -> None:
        with guard("langchain.on_tool_start"):
            _, agent = self._enclosing(parent_run_id)
            tracked = Tracked(kind=SpanKind.TOOL, agent=agent,
                              name=_attributes.run_name(serialized, kwargs, "tool"))
            self._begin("langchain.on_tool_start", run_id, parent_run_id, tracked,
                        lambda: _attributes.tool_start(
                            serialized=serialized, input_str=input_str, inputs=inputs,
                            kwargs=kwargs, tags=tags, metadata=metadata,
                            metadata_keys=self.options.capture_metadata_keys,
                            payloads=self._payloads()))
            self._learn_step_limit(agent)

    def on_tool_end(self, output: Any, *, run_id: UUID, parent_run_id: UUID | None = None,
                    **kwargs: Any) -> None:
        with guard("langchain.on_tool_end"):
            self._runs.pop(run_id)
            if _attributes.tool_reported_error(output):
                self._recorder.error(run_id, "tool_error")
                return
            self._finish("langchain.on_tool_end", run_id,
                         lambda: _attributes.tool_end(output, payloads=self._payloads()))

    def on_tool_error(self, error: BaseException, *, run_id: UUID,
                      parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        with guard("langchain.on_tool_error"):
            self._fail("langchain.on_tool_error", run_id, error)

    # ------------------------------------------------------------------ retrievers
    def on_retriever_start(self, serialized: dict[str, Any] | None, query: str, *, run_id: UUID,
                           parent_run_id: UUID | None = None, tags: list[str] | None = None,
                           metadata: dict[str, Any] | None = None, **kwargs: Any) -> None:
        with guard("langchain.on_retriever_start"):
            _, agent = self._enclosing(parent_run_id)
            tracked = Tracked(kind=SpanKind.RETRIEVER, agent=agent,
                              name=_attributes.run_name(serialized, kwargs, "retriever"))
            self._begin("langchain.on_retriever_start", run_id, parent_run_id, tracked,
                        lambda: _attributes.retriever_start(
                            serialized=serialized, query=query, kwargs=kwargs, tags=tags,
                            metadata=metadata, metadata_keys=self.options.capture_metadata_keys,
                            payloads=self._payloads()))

    def on_retriever_end(self, documents: Sequence[Any], *, run_id: UUID,
                         parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        with guard("langchain.on_retriever_end"):
            self._runs.pop(run_id)
            self._finish("langchain.on_retriever_end", run_id,
                         lambda: _attributes.retriever_end(documents, payloads=self._payloads()))

    def on_retriever_error(self, error: BaseException, *, run_id: UUID,
                           parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        with guard("langchain.on_retriever_error"):
            self._fail("langchain.on_retriever_error", run_id, error)
