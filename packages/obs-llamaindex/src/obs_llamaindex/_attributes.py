"""Pure functions from LlamaIndex objects and events to obs run records.

Nothing here keeps state or talks to the recorder: each function takes what LlamaIndex handed
over (an LLM instance, a response, retrieved nodes, a tool output...) and returns a
:class:`~obs_core.integration.RunStart` / :class:`~obs_core.integration.RunEnd`. Objects are read
through :mod:`obs_llamaindex._readers`, so a provider package that shapes its responses
differently yields fewer facts, never an exception. Payloads (``inputs``/``outputs``, document
text) are only built when ``capture`` is true: on the hot path they cost nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from obs_core import semconv as sc
from obs_core.integration import RunEnd, RunStart, reranker_start
from obs_core.spans import RetrievedDocument, SpanKind
from obs_llamaindex._readers import (
    as_int,
    as_str,
    finish_reasons_of,
    get,
    message_dict,
    model_of,
    provider_of,
    request_params,
    response_text,
    text_of_query,
    usage_of,
)


# ------------------------------------------------------------------------------ LLMs
def llm_start(instance: Any, *, operation: str, stream: bool, call_kwargs: Mapping[str, Any] | None,
              messages: Sequence[Any] | None, prompt: str | None, capture: bool,
              start_time_ns: int) -> RunStart:
    model = model_of(instance)
    inputs: Any = None
    if capture:
        inputs = [message_dict(m) for m in messages] if messages is not None else prompt
    return RunStart(
        kind=SpanKind.LLM, name=model or type(instance).__name__, operation=operation,
        provider=provider_of(type(instance)), model=model,
        request_params=request_params(instance, call_kwargs, stream=stream),
        inputs=inputs, start_time_ns=start_time_ns,
    )


def llm_end(response: Any, *, streamed_finish_reasons: Iterable[str] = (),
            capture: bool) -> RunEnd:
    """From a ``ChatResponse`` / ``CompletionResponse`` (for streams: the last chunk, whose
    ``raw`` carries the usage when the request asked for it)."""
    raw = get(response, "raw")
    outputs: Any = None
    if capture:
        message = get(response, "message")
        outputs = [message_dict(message)] if message is not None else get(response, "text")
    return RunEnd(
        usage=usage_of(raw, get(response, "additional_kwargs")),
        response_id=as_str(get(raw, "id")),
        response_model=as_str(get(raw, "model")),
        finish_reasons=finish_reasons_of(raw) or list(streamed_finish_reasons),
        outputs=outputs,
    )


# ------------------------------------------------------------------------------ embeddings
def embedding_start(instance: Any, *, start_time_ns: int) -> RunStart:
    model = model_of(instance)
    return RunStart(kind=SpanKind.EMBEDDING, name=model or type(instance).__name__, model=model,
                    provider=provider_of(type(instance)), start_time_ns=start_time_ns)


def embedding_end(result: Any) -> RunEnd:
    """Input count and dimensions from what the embedding call returned: one vector, a list of
    vectors, or sparse (mapping) vectors whose dimension is not fixed."""
    if not isinstance(result, list) or not result:
        return RunEnd(embedding_input_count=0 if isinstance(result, list) else None)
    first = result[0]
    if isinstance(first, (int, float)):
        return RunEnd(embedding_input_count=1, embedding_dimensions=len(result))
    dims = len(first) if isinstance(first, list) else None
    return RunEnd(embedding_input_count=len(result), embedding_dimensions=dims)


# ------------------------------------------------------------------------------ retrieval
def data_source_of(instance: Any) -> str:
    store = getattr(instance, "_vector_store", None)
    return type(store).__name__ if store is not None else type(instance).__name__


def retrieval_start(instance: Any, query: Any, *, capture: bool, start_time_ns: int) -> RunStart:
    return RunStart(kind=SpanKind.RETRIEVER, name=type(instance).__name__,
                    data_source=data_source_of(instance),
                    inputs=text_of_query(query) if capture else None, start_time_ns=start_time_ns)


def documents_of(nodes: Any, *, capture: bool) -> list[RetrievedDocument]:
    docs: list[RetrievedDocument] = []
    if not isinstance(nodes, (list, tuple)):
        return docs
    for item in nodes:
        node = getattr(item, "node", item)
        score = getattr(item, "score", None)
        ident = getattr(node, "node_id", None) or getattr(node, "id_", None)
        doc = RetrievedDocument(
            id=ident if isinstance(ident, str) else None,
            score=float(score) if isinstance(score, (int, float)) and not isinstance(score, bool) else None,
        )
        if capture:
            text = getattr(node, "text", None)
            doc.content = text if isinstance(text, str) else None
            meta = getattr(node, "metadata", None)
            doc.metadata = dict(meta) if isinstance(meta, Mapping) else {}
        docs.append(doc)
    return docs


def retrieval_end(result: Any, *, capture: bool) -> RunEnd:
    docs = documents_of(result, capture=capture)
    return RunEnd(documents=docs, outputs=[d.content for d in docs] if capture else None)


def rerank_start(instance: Any, *, model_name: Any, top_n: Any, query: Any, capture: bool,
                 start_time_ns: int, nodes: Any = None) -> RunStart:
    """From a ``ReRankStartEvent`` (a reranker that announces itself)."""
    return reranker_start(
        name=type(instance).__name__, model=as_str(model_name) or reranker_model(instance),
        provider=provider_of(type(instance)), top_n=as_int(top_n),
        input_count=len(nodes) if isinstance(nodes, (list, tuple)) else None,
        query=text_of_query(query) if capture and query is not None else None,
        start_time_ns=start_time_ns)


def event_rerank_start(*, model_name: Any, top_n: Any, query: Any, nodes: Any,
                       capture: bool) -> RunStart:
    """From a ``ReRankStartEvent`` that has no span of its own: the event is all there is."""
    model = as_str(model_name)
    return reranker_start(
        name=model or "reranker", model=model, top_n=as_int(top_n),
        input_count=len(nodes) if isinstance(nodes, (list, tuple)) else None,
        query=text_of_query(query) if capture and query is not None else None)


def postprocessor_start(instance: Any, *, bound_args: Any, capture: bool,
                        start_time_ns: int) -> RunStart:
    """From a node postprocessor's ``_postprocess_nodes(nodes, query_bundle)`` span: most
    rerankers (``LLMRerank``, ``SentenceTransformerRerank``...) fire no rerank event, so their
    facts are read from the instance and the call's arguments."""
    arguments = getattr(bound_args, "arguments", None)
    arguments = arguments if isinstance(arguments, Mapping) else {}
    return rerank_start(instance, model_name=None, top_n=getattr(instance, "top_n", None),
                        query=arguments.get("query_bundle"), capture=capture,
                        start_time_ns=start_time_ns, nodes=arguments.get("nodes"))


def reranker_model(instance: Any) -> str | None:
    """The model a reranker runs: its own ``model`` field, else that of the LLM it judges with."""
    model = model_of(instance)
    if model is None:
        llm = getattr(instance, "llm", None)
        model = model_of(llm) if llm is not None else None
    return model


def rerank_details(*, model_name: Any, top_n: Any) -> dict[str, Any]:
    """What a ``ReRankStartEvent`` adds to a reranker span already started from its type."""
    attrs: dict[str, Any] = {}
    if as_str(model_name):
        attrs[sc.GEN_AI_REQUEST_MODEL] = model_name
    if as_int(top_n) is not None:
        attrs[sc.OBS_RERANKER_TOP_N] = top_n
    return attrs


# ------------------------------------------------------------------------------ chains and tools
def chain_start(name: str, *, inputs: Any, start_time_ns: int) -> RunStart:
    return RunStart(kind=SpanKind.CHAIN, name=name, inputs=inputs, start_time_ns=start_time_ns)


def chain_end(result: Any, *, capture: bool) -> RunEnd:
    return RunEnd(outputs=response_text(result) if capture else None)


def tool_start(instance: Any, *, call_id: str | None, inputs: Any,
               start_time_ns: int) -> RunStart:
    metadata = getattr(instance, "metadata", None)
    name = as_str(get(metadata, "name")) or type(instance).__name__
    return RunStart(kind=SpanKind.TOOL, name=name, tool_call_id=call_id,
                    tool_description=as_str(get(metadata, "description")), tool_type="function",
                    inputs=inputs, start_time_ns=start_time_ns)


def tool_failure(result: Any) -> BaseException | str | None:
    """The failure a tool reported in its ``ToolOutput`` instead of raising."""
    if getattr(result, "is_error", False) is not True:
        return None
    exc = getattr(result, "exception", None)
    return exc if isinstance(exc, BaseException) else "tool_error"


def tool_end(result: Any, *, capture: bool) -> RunEnd:
    outputs: Any = None
    if capture:
        content = getattr(result, "content", None)
        outputs = content if isinstance(content, str) else result
    return RunEnd(outputs=outputs)


# ------------------------------------------------------------------------------ workflows and agents
def workflow_start(instance: Any, *, start_event: Any, run_id: Any, capture: bool,
                   start_time_ns: int) -> RunStart:
    metadata = {"llamaindex.run_id": run_id} if isinstance(run_id, str) else {}
    return RunStart(kind=SpanKind.CHAIN, operation=sc.OP_INVOKE_WORKFLOW,
                    name=type(instance).__name__, metadata=metadata,
                    inputs=_start_inputs(start_event) if capture else None,
                    start_time_ns=start_time_ns)


def agent_start(agent: Any, *, step_limit: int | None, early_stopping: Any, start_event: Any,
                capture: bool, start_time_ns: int | None) -> RunStart:
    description = as_str(getattr(agent, "description", None))
    llm = getattr(agent, "llm", None)
    model = model_of(llm) if llm is not None else None
    return RunStart(
        kind=SpanKind.AGENT, name=as_str(getattr(agent, "name", None)) or type(agent).__name__,
        model=model, provider=provider_of(type(llm)) if llm is not None else None,
        agent_step_limit=step_limit,
        attributes={sc.GEN_AI_AGENT_DESCRIPTION: description} if description else {},
        metadata={"early_stopping_method": early_stopping} if isinstance(early_stopping, str) else {},
        inputs=_start_inputs(start_event) if capture else None,
        start_time_ns=start_time_ns,
    )


def _start_inputs(start_event: Any) -> Any:
    if start_event is None:
        return None
    user_msg = get(start_event, "user_msg")
    if user_msg is not None:
        return user_msg if isinstance(user_msg, str) else message_dict(user_msg)
    to_dict = getattr(start_event, "to_dict", None)
    return to_dict() if callable(to_dict) else start_event


def step_limit_of(start_event: Any, default: int) -> int:
    """``max_iterations`` as the agent will apply it: from ``run(max_iterations=...)``, which
    LlamaIndex carries on the start event, else its default."""
    getter = getattr(start_event, "get", None)
    value = getter("max_iterations", None) if callable(getter) else None
    value = as_int(value)
    return value if value else default


def early_stopping_of(start_event: Any, agent: Any) -> Any:
    getter = getattr(start_event, "get", None)
    value = getter("early_stopping_method", None) if callable(getter) else None
    return value or getattr(agent, "early_stopping_method", None)


def agent_end(result: Any, *, limit_reached: bool, stop_reason: str, capture: bool) -> RunEnd:
    return RunEnd(max_iterations_reached=limit_reached, stop_reason=stop_reason,
                  outputs=response_text(result) if capture else None)
