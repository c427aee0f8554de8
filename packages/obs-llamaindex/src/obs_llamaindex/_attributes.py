"""Pure functions from LlamaIndex objects and events to obs run records.

Nothing here keeps state or talks to the recorder: each function reads what LlamaIndex handed over
(an LLM instance, a response, retrieved nodes, a tool output...) and returns a
:class:`~obs_core.integration.RunStart` / :class:`~obs_core.integration.RunEnd` or a plain value.
Objects are read by duck typing (``getattr`` with defaults), so a provider package that shapes its
responses differently yields fewer facts, never an exception. Payloads (``inputs``/``outputs``,
document text) are only built when ``capture`` is true: on the hot path they cost nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from obs_core import semconv as sc
from obs_core.integration import RunEnd, RunStart
from obs_core.spans import RetrievedDocument, SpanKind, TokenUsage

_UUID_SUFFIX = 37
"""``-`` plus a 36-character uuid4: how the dispatcher suffixes every span id."""

_PROVIDERS = {
    "openai": "openai",
    "openai_like": "openai",
    "azure_openai": "azure.ai.openai",
    "azure_inference": "azure.ai.inference",
    "anthropic": "anthropic",
    "bedrock": "aws.bedrock",
    "bedrock_converse": "aws.bedrock",
    "vertex": "gcp.vertex_ai",
    "gemini": "gcp.gemini",
    "google_genai": "gcp.gen_ai",
    "mistralai": "mistral_ai",
    "cohere": "cohere",
    "groq": "groq",
    "deepseek": "deepseek",
    "perplexity": "perplexity",
    "ibm": "ibm.watsonx.ai",
    "xai": "x_ai",
}
_PROVIDER_NAMESPACES = frozenset({"llms", "embeddings", "postprocessor"})

# LLM attribute or request kwarg -> the GenAI request parameter it is.
_REQUEST_PARAMS = {
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "max_tokens": "max_tokens",
    "max_completion_tokens": "max_tokens",
    "max_new_tokens": "max_tokens",
    "seed": "seed",
    "frequency_penalty": "frequency_penalty",
    "presence_penalty": "presence_penalty",
    "stop": "stop_sequences",
    "stop_sequences": "stop_sequences",
    "n": "choice.count",
}


# ------------------------------------------------------------------------------ names and types
def span_qualname(span_id: str) -> str:
    """``RetrieverQueryEngine.query`` from the dispatcher's ``RetrieverQueryEngine.query-<uuid4>``."""
    if len(span_id) > _UUID_SUFFIX and span_id[-_UUID_SUFFIX] == "-":
        return span_id[:-_UUID_SUFFIX]
    return span_id


def method_of(qualname: str) -> str:
    return qualname.rpartition(".")[2]


_provider_cache: dict[type, str | None] = {}


def provider_of(cls: type) -> str | None:
    """``gen_ai.provider.name`` from the integration package a class comes from
    (``llama_index.llms.anthropic`` -> ``anthropic``); ``None`` for core classes and user code."""
    try:
        return _provider_cache[cls]
    except KeyError:
        pass
    parts = cls.__module__.split(".", 3)
    provider = None
    if len(parts) >= 3 and parts[0] == "llama_index" and parts[1] in _PROVIDER_NAMESPACES:
        provider = _PROVIDERS.get(parts[2], parts[2])
    if len(_provider_cache) < 1024:
        _provider_cache[cls] = provider
    return provider


def is_control_flow(error: BaseException, control_flow: tuple[type[BaseException], ...], *,
                    in_workflow: bool) -> bool:
    """Whether ``error`` is how LlamaIndex steers (a finished or cancelled workflow, a paused
    step, a consumer that closed a stream) rather than a failure. Decided by type only;
    cancellation counts only inside workflows, where the runtime cancels its own tasks."""
    if isinstance(error, GeneratorExit):
        return True
    if not isinstance(error, control_flow):
        return False
    return in_workflow or not isinstance(error, asyncio.CancelledError)


def identity_from_tags(tags: Mapping[str, Any] | None, prefix: str) -> dict[str, str]:
    """Identity fields set with ``obs_llamaindex.session()`` (LlamaIndex instrument tags)."""
    if not tags:
        return {}
    out: dict[str, str] = {}
    for field in ("conversation_id", "user_id", "user_cohort", "pipeline_version"):
        value = tags.get(prefix + field)
        if isinstance(value, str) and value:
            out[field] = value
    return out


# ------------------------------------------------------------------------------ small readers
def _get(obj: Any, name: str) -> Any:
    """Attribute or mapping item ``name``; ``None`` when absent (provider objects or dicts)."""
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _scalar(value: Any) -> Any:
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return value
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def text_of_query(query: Any) -> str:
    """The query string of a ``str`` or ``QueryBundle``."""
    if isinstance(query, str):
        return query
    text = _get(query, "query_str")
    return text if isinstance(text, str) else str(query)


def _role(message: Any) -> str:
    role = _get(message, "role")
    value = getattr(role, "value", role)
    return value if isinstance(value, str) else "user"


def _tool_calls(message: Any) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    for block in _get(message, "blocks") or ():
        name = getattr(block, "tool_name", None)
        if isinstance(name, str):
            calls.append({"id": getattr(block, "tool_call_id", None), "name": name,
                          "arguments": getattr(block, "tool_kwargs", None)})
    return calls


def message_dict(message: Any) -> dict[str, Any]:
    """A ``ChatMessage`` as the role/content dict payloads use."""
    out: dict[str, Any] = {"role": _role(message), "content": _get(message, "content")}
    calls = _tool_calls(message)
    if calls:
        out["tool_calls"] = calls
    extra = _get(message, "additional_kwargs")
    call_id = _get(extra, "tool_call_id") if extra else None
    if call_id is not None:
        out["tool_call_id"] = call_id
    return out


# ------------------------------------------------------------------------------ LLMs
def model_of(instance: Any) -> str | None:
    for name in ("model", "model_name"):
        value = _str(getattr(instance, name, None))
        if value:
            return value
    return _str(_get(getattr(instance, "metadata", None), "model_name"))


def request_params(instance: Any, call_kwargs: Mapping[str, Any] | None, *,
                   stream: bool) -> dict[str, Any]:
    """Generation parameters: the LLM's fields, its ``additional_kwargs``, then the call's."""
    params: dict[str, Any] = {}
    for source in (None, getattr(instance, "additional_kwargs", None), call_kwargs):
        for name, key in _REQUEST_PARAMS.items():
            value = getattr(instance, name, None) if source is None else _get(source, name)
            value = _scalar(value)
            if value is not None:
                params[key] = [value] if key == "stop_sequences" and isinstance(value, str) else value
    if stream:
        params["stream"] = True
    return params


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


def usage_of(raw: Any, counts: Any = None) -> TokenUsage | None:
    """Token usage as the provider reported it in ``raw`` (OpenAI ``usage`` with its
    ``prompt_tokens_details`` / ``completion_tokens_details``, or Anthropic-style
    ``input_tokens``), else the counts LlamaIndex copied into ``additional_kwargs``."""
    usage = _get(raw, "usage")
    if usage is None:
        usage = _get(raw, "usage_metadata")
    if usage is not None:
        prompt = _int(_get(usage, "prompt_tokens"))
        completion = _int(_get(usage, "completion_tokens"))
        if prompt is not None or completion is not None:
            cached = _int(_get(_get(usage, "prompt_tokens_details"), "cached_tokens")) or 0
            reasoning = _int(_get(_get(usage, "completion_tokens_details"), "reasoning_tokens")) or 0
            return TokenUsage(input_tokens=prompt or 0, output_tokens=completion or 0,
                              total_tokens=_int(_get(usage, "total_tokens")),
                              cache_read_tokens=cached, reasoning_tokens=reasoning)
        fresh = _int(_get(usage, "input_tokens"))
        output = _int(_get(usage, "output_tokens"))
        if fresh is not None or output is not None:
            read = _int(_get(usage, "cache_read_input_tokens")) or 0
            write = _int(_get(usage, "cache_creation_input_tokens")) or 0
            return TokenUsage(input_tokens=(fresh or 0) + read + write, output_tokens=output or 0,
                              cache_read_tokens=read, cache_write_tokens=write)
    prompt = _int(_get(counts, "prompt_tokens"))
    completion = _int(_get(counts, "completion_tokens"))
    if prompt is None and completion is None:
        return None
    return TokenUsage(input_tokens=prompt or 0, output_tokens=completion or 0,
                      total_tokens=_int(_get(counts, "total_tokens")))


def finish_reasons_of(raw: Any) -> list[str]:
    reasons = [r for c in _get(raw, "choices") or () if (r := _str(_get(c, "finish_reason")))]
    if not reasons:
        stop = _str(_get(raw, "stop_reason"))
        if stop:
            reasons.append(stop)
    return reasons


def llm_end(response: Any, *, streamed_finish_reasons: Iterable[str] = (),
            capture: bool) -> RunEnd:
    """From a ``ChatResponse`` / ``CompletionResponse`` (for streams: the last chunk, whose
    ``raw`` carries the usage when the request asked for it)."""
    raw = _get(response, "raw")
    outputs: Any = None
    if capture:
        message = _get(response, "message")
        outputs = [message_dict(message)] if message is not None else _get(response, "text")
    return RunEnd(
        usage=usage_of(raw, _get(response, "additional_kwargs")),
        response_id=_str(_get(raw, "id")),
        response_model=_str(_get(raw, "model")),
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
                 start_time_ns: int) -> RunStart:
    model = _str(model_name)
    attrs = {sc.OBS_RERANKER_TOP_N: top_n} if _int(top_n) is not None else {}
    return RunStart(kind=SpanKind.RERANKER, name=type(instance).__name__, model=model,
                    provider=provider_of(type(instance)), attributes=attrs,
                    inputs=text_of_query(query) if capture and query is not None else None,
                    start_time_ns=start_time_ns)


# ------------------------------------------------------------------------------ chains and tools
def chain_start(name: str, *, inputs: Any, start_time_ns: int) -> RunStart:
    return RunStart(kind=SpanKind.CHAIN, name=name, inputs=inputs, start_time_ns=start_time_ns)


def response_text(result: Any, _depth: int = 0) -> Any:
    """What a query engine, synthesizer, chat engine, agent or workflow answered: its text when
    it has one (a streamed response has none yet), plain data as it is, else ``None``."""
    if result is None or isinstance(result, (str, int, float, bool, Mapping, list, tuple)):
        return result
    for name in ("response", "result", "message"):
        value = getattr(result, name, None)
        if value is None:
            continue
        if isinstance(value, str):
            return value
        if name == "result":
            return response_text(value, _depth + 1) if _depth < 4 else None
        content = _get(value, "content")
        if isinstance(content, str):
            return content
    content = getattr(result, "content", None)
    return content if isinstance(content, str) else None


def chain_end(result: Any, *, capture: bool) -> RunEnd:
    return RunEnd(outputs=response_text(result) if capture else None)


def bound_inputs(bound_args: Any, *, skip: tuple[type, ...] = ()) -> dict[str, Any]:
    """A call's arguments by name, leaving out objects (workflow contexts) that are not data."""
    out: dict[str, Any] = {}
    arguments = getattr(bound_args, "arguments", None)
    if not isinstance(arguments, Mapping):
        return out
    for name, value in arguments.items():
        if isinstance(value, Mapping) and name == "kwargs":
            out.update((k, v) for k, v in value.items() if not isinstance(v, skip))
        elif isinstance(value, tuple) and name == "args":
            if value:
                out["args"] = list(value)
        elif not isinstance(value, skip):
            out[name] = value
    return out


def tool_start(instance: Any, *, call_id: str | None, inputs: Any,
               start_time_ns: int) -> RunStart:
    metadata = getattr(instance, "metadata", None)
    name = _str(_get(metadata, "name")) or type(instance).__name__
    return RunStart(kind=SpanKind.TOOL, name=name, tool_call_id=call_id,
                    tool_description=_str(_get(metadata, "description")), tool_type="function",
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
    description = _str(getattr(agent, "description", None))
    llm = getattr(agent, "llm", None)
    model = model_of(llm) if llm is not None else None
    return RunStart(
        kind=SpanKind.AGENT, name=_str(getattr(agent, "name", None)) or type(agent).__name__,
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
    user_msg = _get(start_event, "user_msg")
    if user_msg is not None:
        return user_msg if isinstance(user_msg, str) else message_dict(user_msg)
    to_dict = getattr(start_event, "to_dict", None)
    return to_dict() if callable(to_dict) else start_event


def step_limit_of(start_event: Any, default: int) -> int:
    """``max_iterations`` as the agent will apply it: from ``run(max_iterations=...)``, which
    LlamaIndex carries on the start event, else its default."""
    getter = getattr(start_event, "get", None)
    value = getter("max_iterations", None) if callable(getter) else None
    value = _int(value)
    return value if value else default


def early_stopping_of(start_event: Any, agent: Any) -> Any:
    getter = getattr(start_event, "get", None)
    value = getter("early_stopping_method", None) if callable(getter) else None
    return value or getattr(agent, "early_stopping_method", None)


def agent_end(result: Any, *, limit_reached: bool, stop_reason: str, capture: bool) -> RunEnd:
    return RunEnd(max_iterations_reached=limit_reached, stop_reason=stop_reason,
                  outputs=response_text(result) if capture else None)
