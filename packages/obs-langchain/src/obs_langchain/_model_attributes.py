"""Pure functions from LangChain model callbacks (chat and completion models) to obs records.

Provider, request model and parameters at the start; usage, response id and model, finish
reasons and cache hits at the end. Usage is taken as the provider reported it on the final
(for streams: aggregated) message, never summed from chunks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from obs_core import RunEnd, RunStart, SpanKind, TokenUsage, UsageSource
from obs_langchain._attributes import labels, run_name

_LANGCHAIN_ID_PREFIX = "lc_"

# ``ls_provider`` values and integration package names → GenAI ``gen_ai.provider.name``.
_PROVIDERS = {
    "openai": "openai",
    "azure": "azure.ai.openai",
    "azure_openai": "azure.ai.openai",
    "anthropic": "anthropic",
    "google_genai": "gcp.gen_ai",
    "google_vertexai": "gcp.vertex_ai",
    "vertexai": "gcp.vertex_ai",
    "google_anthropic_vertex": "gcp.vertex_ai",
    "bedrock": "aws.bedrock",
    "amazon_bedrock": "aws.bedrock",
    "bedrock_converse": "aws.bedrock",
    "aws": "aws.bedrock",
    "mistral": "mistral_ai",
    "mistralai": "mistral_ai",
    "cohere": "cohere",
    "groq": "groq",
    "deepseek": "deepseek",
    "xai": "x_ai",
    "perplexity": "perplexity",
    "ibm": "ibm.watsonx.ai",
    "watsonx": "ibm.watsonx.ai",
    "ollama": "ollama",
    "fireworks": "fireworks",
    "together": "together",
    "huggingface": "huggingface",
    "nvidia": "nvidia",
}

# obs request-parameter name → invocation-parameter names used across chat model integrations.
_PARAMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("temperature", ("temperature",)),
    ("top_p", ("top_p",)),
    ("top_k", ("top_k",)),
    ("max_tokens", ("max_tokens", "max_completion_tokens", "max_output_tokens",
                    "max_tokens_to_sample", "num_predict")),
    ("frequency_penalty", ("frequency_penalty",)),
    ("presence_penalty", ("presence_penalty",)),
    ("seed", ("seed", "random_seed")),
    ("choice.count", ("n", "candidate_count")),
    ("stop_sequences", ("stop", "stop_sequences")),
)
_LS_PARAMS = (("temperature", "ls_temperature"), ("max_tokens", "ls_max_tokens"),
              ("stop_sequences", "ls_stop"))

_ROLES = {
    "human": "user", "HumanMessageChunk": "user",
    "ai": "assistant", "AIMessageChunk": "assistant",
    "system": "system", "SystemMessageChunk": "system",
    "developer": "developer",
    "tool": "tool", "ToolMessageChunk": "tool",
    "function": "tool", "FunctionMessageChunk": "tool",
}


def provider(metadata: Mapping[str, Any] | None, serialized: Mapping[str, Any] | None) -> str | None:
    """``gen_ai.provider.name`` from ``ls_provider``, else from the integration's module path."""
    if metadata:
        value = metadata.get("ls_provider")
        if isinstance(value, str) and value:
            return _PROVIDERS.get(value.lower(), value.lower())
    ident = serialized.get("id") if serialized else None
    if isinstance(ident, list):
        for part in reversed(ident[:-1]):
            if isinstance(part, str):
                key = part.lower().removeprefix("langchain_")
                if key in _PROVIDERS:
                    return _PROVIDERS[key]
    return None


def request_model(metadata: Mapping[str, Any] | None, params: Mapping[str, Any]) -> str | None:
    value = metadata.get("ls_model_name") if metadata else None
    if isinstance(value, str) and value:
        return value
    for key in ("model", "model_name", "model_id", "deployment_name", "azure_deployment"):
        value = params.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _param_value(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float, str)):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value) or None
    return None


def request_params(params: Mapping[str, Any], metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    """Generation parameters under their GenAI names, from the invocation parameters with
    LangSmith's ``ls_*`` metadata as the fallback."""
    out: dict[str, Any] = {}
    for target, sources in _PARAMS:
        for source in sources:
            value = _param_value(params.get(source))
            if value is not None:
                out[target] = [value] if target == "stop_sequences" and isinstance(value, str) else value
                break
    if metadata:
        for target, key in _LS_PARAMS:
            if target not in out:
                value = _param_value(metadata.get(key))
                if value is not None:
                    out[target] = [value] if target == "stop_sequences" and isinstance(value, str) else value
    if params.get("stream") is True:
        out["stream"] = True
    return out


def message_view(message: Any) -> dict[str, Any]:
    """A role/content view of a LangChain message, sharing its content (no copy)."""
    kind = getattr(message, "type", None)
    role = getattr(message, "role", None) if kind == "chat" else _ROLES.get(str(kind), kind)
    view: dict[str, Any] = {"role": role or "unknown", "content": getattr(message, "content", None)}
    calls = getattr(message, "tool_calls", None)
    if calls:
        view["tool_calls"] = [
            {"id": c.get("id"), "name": c.get("name"), "arguments": c.get("args")}
            for c in calls if isinstance(c, Mapping)
        ]
    call_id = getattr(message, "tool_call_id", None)
    if call_id:
        view["tool_call_id"] = call_id
    name = getattr(message, "name", None)
    if name:
        view["name"] = name
    return view


def model_start(*, kind_operation: str, serialized: Mapping[str, Any] | None,
                kwargs: Mapping[str, Any], tags: Sequence[str] | None,
                metadata: Mapping[str, Any] | None, metadata_keys: frozenset[str] | None,
                inputs: Any) -> RunStart:
    """A chat model (``chat``) or completion model (``text_completion``) call."""
    params = kwargs.get("invocation_params")
    params = params if isinstance(params, Mapping) else {}
    model = request_model(metadata, params)
    return RunStart(
        kind=SpanKind.LLM,
        operation=kind_operation,
        name=model or run_name(serialized, kwargs, "llm"),
        provider=provider(metadata, serialized),
        model=model,
        request_params=request_params(params, metadata),
        inputs=inputs,
        **labels(tags, metadata, metadata_keys),
    )


def chat_inputs(messages: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    return [message_view(m) for batch in messages for m in batch]


def prompt_inputs(prompts: Sequence[str]) -> list[dict[str, Any]]:
    return [{"role": "user", "content": p} for p in prompts]


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def usage_of_message(usage: Mapping[str, Any]) -> TokenUsage:
    """LangChain's ``usage_metadata`` (as providers reported it) as a :class:`TokenUsage`."""
    inputs = usage.get("input_token_details")
    outputs = usage.get("output_token_details")
    inputs = inputs if isinstance(inputs, Mapping) else {}
    outputs = outputs if isinstance(outputs, Mapping) else {}
    total = usage.get("total_tokens")
    return TokenUsage(
        input_tokens=_int(usage.get("input_tokens")),
        output_tokens=_int(usage.get("output_tokens")),
        total_tokens=total if isinstance(total, int) and not isinstance(total, bool) else None,
        cache_read_tokens=_int(inputs.get("cache_read")),
        cache_write_tokens=_int(inputs.get("cache_creation")),
        reasoning_tokens=_int(outputs.get("reasoning")),
        source=UsageSource.PROVIDER,
    )


def usage_of_llm_output(llm_output: Mapping[str, Any]) -> TokenUsage | None:
    """OpenAI-style ``token_usage`` that completion models put in ``llm_output``."""
    usage = llm_output.get("token_usage") or llm_output.get("usage")
    if not isinstance(usage, Mapping) or not usage:
        return None
    prompt = usage.get("prompt_tokens_details")
    completion = usage.get("completion_tokens_details")
    total = usage.get("total_tokens")
    return TokenUsage(
        input_tokens=_int(usage.get("prompt_tokens", usage.get("input_tokens"))),
        output_tokens=_int(usage.get("completion_tokens", usage.get("output_tokens"))),
        total_tokens=total if isinstance(total, int) and not isinstance(total, bool) else None,
        cache_read_tokens=_int(prompt.get("cached_tokens")) if isinstance(prompt, Mapping) else 0,
        cache_write_tokens=0,
        reasoning_tokens=(_int(completion.get("reasoning_tokens"))
                          if isinstance(completion, Mapping) else 0),
        source=UsageSource.PROVIDER,
    )


def _response_id(meta: Mapping[str, Any], message: Any) -> str | None:
    """The provider's response id; LangChain's own run-derived message ids do not count."""
    value = meta.get("id")
    if isinstance(value, str) and value:
        return value
    value = getattr(message, "id", None)
    if isinstance(value, str) and value and not value.startswith(_LANGCHAIN_ID_PREFIX):
        return value
    return None


def model_end(response: Any, *, payloads: bool) -> RunEnd:
    """An ``LLMResult``: usage from the (aggregated) message, response id and model, finish
    reasons, and whether LangChain's response cache answered."""
    usage: TokenUsage | None = None
    response_id = response_model = None
    finish: list[str] = []
    cached = False
    outputs: list[dict[str, Any]] | None = [] if payloads else None
    for batch in getattr(response, "generations", None) or ():
        for generation in batch:
            message = getattr(generation, "message", None)
            info = getattr(generation, "generation_info", None) or {}
            meta = getattr(message, "response_metadata", None) or {}
            reason = info.get("finish_reason") or meta.get("finish_reason") or meta.get("stop_reason")
            if isinstance(reason, str) and reason:
                finish.append(reason)
            if message is None:
                if outputs is not None:
                    outputs.append({"role": "assistant", "content": getattr(generation, "text", None)})
                continue
            reported = getattr(message, "usage_metadata", None)
            if usage is None and isinstance(reported, Mapping) and reported:
                usage = usage_of_message(reported)
                # langchain-core zeroes ``total_cost`` on answers replayed from its cache.
                cached = reported.get("total_cost") == 0
            if response_id is None:
                response_id = _response_id(meta, message)
            if response_model is None:
                model = meta.get("model_name") or meta.get("model")
                response_model = model if isinstance(model, str) else None
            if outputs is not None:
                outputs.append(message_view(message))
    llm_output = getattr(response, "llm_output", None)
    if isinstance(llm_output, Mapping):
        if usage is None:
            usage = usage_of_llm_output(llm_output)
        if response_model is None:
            model = llm_output.get("model_name") or llm_output.get("model")
            response_model = model if isinstance(model, str) else None
        if response_id is None and isinstance(llm_output.get("id"), str):
            response_id = llm_output["id"]
    return RunEnd(
        usage=usage, response_id=response_id, response_model=response_model,
        finish_reasons=finish, cached_response=cached, outputs=outputs,
    )
