"""``bare-spans``: the floor a callback tracer cannot go below, measured beside the tracers.

One OpenTelemetry span per framework run, parented by the framework's run ids, with the few
GenAI attributes any tracer sets (operation, model, token counts) and nothing else: no context
activation, no payloads, no metrics, no agent accounting, no error classification. What it
costs is the framework's callback dispatch plus the OpenTelemetry SDK's per-span work on the
shared pipeline, which every mode pays; a tracer's overhead above it is what its features cost.
LangChain runs tagged ``langsmith:hidden`` are skipped, as obs skips them, so both emit spans
for the same runs on the LangChain workloads.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode, Tracer

from _hooks import attach_langchain_handler, quiet_span_handler
from _workloads import Framework

_HIDDEN = "langsmith:hidden"


def install(framework: Framework, provider: Any) -> None:
    tracer = provider.get_tracer("bench.bare_spans")
    if framework == "langchain":
        _install_langchain(tracer)
    else:
        _install_llamaindex(tracer)


class _Spans:
    """Open spans by run id; a skipped run maps to its nearest kept ancestor's span."""

    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer
        self.open: dict[Any, Span | None] = {}
        self.skipped: dict[Any, Any] = {}

    def parent(self, parent_id: Any) -> Any:
        parent_id = self.skipped.get(parent_id, parent_id)
        span = self.open.get(parent_id)
        return trace.set_span_in_context(span) if span is not None else None

    def start(self, run_id: Any, parent_id: Any, name: str, attributes: dict[str, Any]) -> None:
        self.open[run_id] = self.tracer.start_span(name, context=self.parent(parent_id),
                                                   attributes=attributes)

    def skip(self, run_id: Any, parent_id: Any) -> None:
        self.skipped[run_id] = self.skipped.get(parent_id, parent_id)

    def end(self, run_id: Any, attributes: dict[str, Any] | None = None,
            error: BaseException | None = None) -> None:
        if self.skipped.pop(run_id, None) is not None:
            return
        span = self.open.pop(run_id, None)
        if span is None:
            return
        if attributes:
            span.set_attributes(attributes)
        if error is not None:
            span.set_status(Status(StatusCode.ERROR))
            span.set_attribute("error.type", type(error).__qualname__)
        span.end()


def _install_langchain(tracer: Tracer) -> None:
    from langchain_core.callbacks import BaseCallbackHandler

    spans = _Spans(tracer)

    def name_of(serialized: Any, kwargs: dict[str, Any], default: str) -> str:
        name = kwargs.get("name")
        if isinstance(name, str):
            return name
        if isinstance(serialized, dict) and isinstance(serialized.get("name"), str):
            return str(serialized["name"])
        return default

    class BareSpansHandler(BaseCallbackHandler):
        run_inline = True

        def _start(self, run_id: UUID, parent_run_id: UUID | None, tags: list[str] | None,
                   name: str, attributes: dict[str, Any]) -> None:
            if tags and _HIDDEN in tags:
                spans.skip(run_id, parent_run_id)
            else:
                spans.start(run_id, parent_run_id, name, attributes)

        def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: UUID,
                           parent_run_id: UUID | None = None, tags: list[str] | None = None,
                           **kwargs: Any) -> None:
            name = name_of(serialized, kwargs, "chain")
            self._start(run_id, parent_run_id, tags, name, {"gen_ai.operation.name": "chain"})

        def on_chat_model_start(self, serialized: Any, messages: Any, *, run_id: UUID,
                                parent_run_id: UUID | None = None,
                                tags: list[str] | None = None,
                                metadata: dict[str, Any] | None = None, **kwargs: Any) -> None:
            model = str((metadata or {}).get("ls_model_name") or "unknown")
            self._start(run_id, parent_run_id, tags, f"chat {model}",
                        {"gen_ai.operation.name": "chat", "gen_ai.request.model": model})

        def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
            attributes: dict[str, Any] = {}
            try:
                usage = response.generations[0][0].message.usage_metadata or {}
                attributes = {"gen_ai.usage.input_tokens": usage.get("input_tokens", 0),
                              "gen_ai.usage.output_tokens": usage.get("output_tokens", 0)}
            except (AttributeError, IndexError):
                pass
            spans.end(run_id, attributes)

        def on_tool_start(self, serialized: Any, input_str: str, *, run_id: UUID,
                          parent_run_id: UUID | None = None, tags: list[str] | None = None,
                          **kwargs: Any) -> None:
            name = name_of(serialized, kwargs, "tool")
            self._start(run_id, parent_run_id, tags, f"execute_tool {name}",
                        {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name})

        def on_retriever_start(self, serialized: Any, query: str, *, run_id: UUID,
                               parent_run_id: UUID | None = None,
                               tags: list[str] | None = None, **kwargs: Any) -> None:
            name = name_of(serialized, kwargs, "retriever")
            self._start(run_id, parent_run_id, tags, f"retrieval {name}",
                        {"gen_ai.operation.name": "retrieval"})

        def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
            spans.end(run_id)

        def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
            spans.end(run_id)

        def on_retriever_end(self, documents: Any, *, run_id: UUID, **kwargs: Any) -> None:
            spans.end(run_id)

        def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
            spans.end(run_id, error=error)

        def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
            spans.end(run_id, error=error)

        def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
            spans.end(run_id, error=error)

        def on_retriever_error(self, error: BaseException, *, run_id: UUID,
                               **kwargs: Any) -> None:
            spans.end(run_id, error=error)

    attach_langchain_handler(BareSpansHandler(), "bench_bare_spans")


def _install_llamaindex(tracer: Tracer) -> None:
    from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]

    spans = _Spans(tracer)

    class BareSpanHandler(quiet_span_handler()):  # type: ignore[misc]
        def span_enter(self, id_: str, bound_args: Any, instance: Any = None,
                       parent_id: str | None = None, tags: Any = None, **kwargs: Any) -> None:
            name = id_.partition("-")[0]
            spans.start(id_, parent_id, name, {"gen_ai.operation.name": name.rpartition(".")[2]})

        def span_exit(self, id_: str, bound_args: Any, instance: Any = None,
                      result: Any = None, **kwargs: Any) -> None:
            spans.end(id_)

        def span_drop(self, id_: str, bound_args: Any, instance: Any = None,
                      err: BaseException | None = None, **kwargs: Any) -> None:
            spans.end(id_, error=err)

    get_dispatcher().add_span_handler(BareSpanHandler())
