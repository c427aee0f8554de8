"""Duck-typed readers of what LlamaIndex and provider packages hand over.

Provider responses arrive as pydantic objects or plain dicts, LLM classes come from any package,
and fields move between releases; every reader here takes what it finds (``getattr`` or mapping
lookup with defaults) and answers ``None`` for what it does not, never raising on odd shapes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from obs_core.spans import TokenUsage

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
def get(obj: Any, name: str) -> Any:
    """Attribute or mapping item ``name``; ``None`` when absent (provider objects or dicts)."""
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def as_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def as_str(value: Any) -> str | None:
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
    text = get(query, "query_str")
    return text if isinstance(text, str) else str(query)


def _role(message: Any) -> str:
    role = get(message, "role")
    value = getattr(role, "value", role)
    return value if isinstance(value, str) else "user"


def _tool_calls(message: Any) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    for block in get(message, "blocks") or ():
        name = getattr(block, "tool_name", None)
        if isinstance(name, str):
            calls.append({"id": getattr(block, "tool_call_id", None), "name": name,
                          "arguments": getattr(block, "tool_kwargs", None)})
    return calls


def message_dict(message: Any) -> dict[str, Any]:
    """A ``ChatMessage`` as the role/content dict payloads use."""
    out: dict[str, Any] = {"role": _role(message), "content": get(message, "content")}
    calls = _tool_calls(message)
    if calls:
        out["tool_calls"] = calls
    extra = get(message, "additional_kwargs")
    call_id = get(extra, "tool_call_id") if extra else None
    if call_id is not None:
        out["tool_call_id"] = call_id
    return out


# ------------------------------------------------------------------------------ models
def _fields(instance: Any) -> Mapping[str, Any]:
    """An object's own field values. Read from ``__dict__``: asking a pydantic model for a field
    it does not have goes through its slow ``__getattr__`` and an exception."""
    fields = getattr(instance, "__dict__", None)
    return fields if isinstance(fields, Mapping) else {}


def model_of(instance: Any) -> str | None:
    fields = _fields(instance)
    for name in ("model", "model_name"):
        value = as_str(fields.get(name))
        if value:
            return value
    try:
        metadata = instance.metadata
    except Exception:  # noqa: BLE001 - a property of someone else's class; any failure means "unknown"
        return None
    return as_str(get(metadata, "model_name"))


def request_params(instance: Any, call_kwargs: Mapping[str, Any] | None, *,
                   stream: bool) -> dict[str, Any]:
    """Generation parameters: the LLM's fields, its ``additional_kwargs``, then the call's."""
    params: dict[str, Any] = {}
    fields = _fields(instance)
    for source in (fields, fields.get("additional_kwargs"), call_kwargs):
        if not isinstance(source, Mapping) or not source:
            continue
        for name, key in _REQUEST_PARAMS.items():
            value = _scalar(source.get(name))
            if value is not None:
                params[key] = [value] if key == "stop_sequences" and isinstance(value, str) else value
    if stream:
        params["stream"] = True
    return params


def usage_of(raw: Any, counts: Any = None) -> TokenUsage | None:
    """Token usage as the provider reported it in ``raw`` (OpenAI ``usage`` with its
    ``prompt_tokens_details`` / ``completion_tokens_details``, or Anthropic-style
    ``input_tokens``), else the counts LlamaIndex copied into ``additional_kwargs``."""
    usage = get(raw, "usage")
    if usage is None:
        usage = get(raw, "usage_metadata")
    if usage is not None:
        prompt = as_int(get(usage, "prompt_tokens"))
        completion = as_int(get(usage, "completion_tokens"))
        if prompt is not None or completion is not None:
            cached = as_int(get(get(usage, "prompt_tokens_details"), "cached_tokens")) or 0
            reasoning = as_int(get(get(usage, "completion_tokens_details"), "reasoning_tokens")) or 0
            return TokenUsage(input_tokens=prompt or 0, output_tokens=completion or 0,
                              total_tokens=as_int(get(usage, "total_tokens")),
                              cache_read_tokens=cached, reasoning_tokens=reasoning)
        fresh = as_int(get(usage, "input_tokens"))
        output = as_int(get(usage, "output_tokens"))
        if fresh is not None or output is not None:
            read = as_int(get(usage, "cache_read_input_tokens")) or 0
            write = as_int(get(usage, "cache_creation_input_tokens")) or 0
            return TokenUsage(input_tokens=(fresh or 0) + read + write, output_tokens=output or 0,
                              cache_read_tokens=read, cache_write_tokens=write)
    prompt = as_int(get(counts, "prompt_tokens"))
    completion = as_int(get(counts, "completion_tokens"))
    if prompt is None and completion is None:
        return None
    return TokenUsage(input_tokens=prompt or 0, output_tokens=completion or 0,
                      total_tokens=as_int(get(counts, "total_tokens")))


def finish_reasons_of(raw: Any) -> list[str]:
    reasons = [r for c in get(raw, "choices") or () if (r := as_str(get(c, "finish_reason")))]
    if not reasons:
        stop = as_str(get(raw, "stop_reason"))
        if stop:
            reasons.append(stop)
    return reasons


# ------------------------------------------------------------------------------ results and arguments
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
        content = get(value, "content")
        if isinstance(content, str):
            return content
    content = getattr(result, "content", None)
    return content if isinstance(content, str) else None


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
