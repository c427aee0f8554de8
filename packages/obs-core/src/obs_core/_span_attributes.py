"""Pure functions from run records to span names and GenAI-convention attributes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from opentelemetry.trace import SpanKind as OtelSpanKind

from obs_core import semconv as sc
from obs_core._selfmetrics import count_drop
from obs_core._values import _safe_str, clean_text, to_attribute, to_json, to_jsonable
from obs_core.runs import RunEnd, RunStart
from obs_core.spans import SpanKind, TokenUsage

_DEFAULT_OPERATION = {
    SpanKind.LLM: sc.OP_CHAT,
    SpanKind.TOOL: sc.OP_EXECUTE_TOOL,
    SpanKind.AGENT: sc.OP_INVOKE_AGENT,
    SpanKind.RETRIEVER: sc.OP_RETRIEVAL,
    SpanKind.EMBEDDING: sc.OP_EMBEDDINGS,
}
_CLIENT_KINDS = frozenset({SpanKind.LLM, SpanKind.EMBEDDING, SpanKind.RETRIEVER, SpanKind.RERANKER})

_REQUEST_KEYS = {
    "temperature": sc.GEN_AI_REQUEST_TEMPERATURE,
    "top_p": sc.GEN_AI_REQUEST_TOP_P,
    "top_k": sc.GEN_AI_REQUEST_TOP_K,
    "max_tokens": sc.GEN_AI_REQUEST_MAX_TOKENS,
    "frequency_penalty": sc.GEN_AI_REQUEST_FREQUENCY_PENALTY,
    "presence_penalty": sc.GEN_AI_REQUEST_PRESENCE_PENALTY,
    "stop_sequences": sc.GEN_AI_REQUEST_STOP_SEQUENCES,
    "seed": sc.GEN_AI_REQUEST_SEED,
    "choice.count": sc.GEN_AI_REQUEST_CHOICE_COUNT,
    "stream": sc.GEN_AI_REQUEST_STREAM,
    "encoding_formats": sc.GEN_AI_REQUEST_ENCODING_FORMATS,
}


def operation_of(start: RunStart) -> str | None:
    return start.operation or _DEFAULT_OPERATION.get(start.kind)


def span_name(start: RunStart) -> str:
    """``{operation} {target}`` as the conventions name GenAI spans; chains keep their name."""
    op = operation_of(start)
    kind = start.kind
    if kind is SpanKind.LLM or kind is SpanKind.EMBEDDING:
        target = start.model or start.name
    elif kind is SpanKind.RETRIEVER:
        target = start.data_source or start.name
    elif kind is SpanKind.RERANKER:
        return f"rerank {start.model or start.name}"
    else:
        target = start.name
    if op is None:
        return target or kind.value
    return f"{op} {target}" if target else op


def otel_kind(kind: SpanKind) -> OtelSpanKind:
    return OtelSpanKind.CLIENT if kind in _CLIENT_KINDS else OtelSpanKind.INTERNAL


def start_attributes(start: RunStart, *, is_root: bool, identity: Mapping[str, str | None],
                     max_length: int) -> dict[str, Any]:
    attrs: dict[str, Any] = {sc.OBS_SPAN_KIND: start.kind.value}
    op = operation_of(start)
    if op is not None:
        attrs[sc.GEN_AI_OPERATION_NAME] = op
    if start.provider:
        attrs[sc.GEN_AI_PROVIDER_NAME] = start.provider
    if start.model:
        attrs[sc.GEN_AI_REQUEST_MODEL] = start.model
    kind = start.kind
    if kind is SpanKind.TOOL:
        attrs[sc.GEN_AI_TOOL_NAME] = start.name
        _put(attrs, sc.GEN_AI_TOOL_CALL_ID, start.tool_call_id)
        _put(attrs, sc.GEN_AI_TOOL_DESCRIPTION, start.tool_description)
        _put(attrs, sc.GEN_AI_TOOL_TYPE, start.tool_type)
    elif kind is SpanKind.AGENT:
        attrs[sc.GEN_AI_AGENT_NAME] = start.name
        if start.agent_step_limit is not None:
            attrs[sc.OBS_AGENT_STEP_LIMIT] = start.agent_step_limit
    elif kind is SpanKind.RETRIEVER:
        _put(attrs, sc.GEN_AI_DATA_SOURCE_ID, start.data_source or start.name)
    elif kind is SpanKind.CHAIN and op == sc.OP_INVOKE_WORKFLOW:
        attrs[sc.GEN_AI_WORKFLOW_NAME] = start.name
    for key, value in start.request_params.items():
        target = _REQUEST_KEYS.get(key)
        if target is not None and value is not None:
            attrs[target] = value
    if is_root:
        attrs[sc.OBS_ROOT] = True
    _put(attrs, sc.GEN_AI_CONVERSATION_ID, identity.get("conversation_id"))
    _put(attrs, sc.USER_ID, identity.get("user_id"))
    _put(attrs, sc.OBS_USER_COHORT, identity.get("user_cohort"))
    _put(attrs, sc.OBS_PIPELINE_VERSION, identity.get("pipeline_version"))
    if start.tags:
        attrs[sc.OBS_TAGS] = [str(t) for t in start.tags]
    for key, value in start.metadata.items():
        if isinstance(value, (str, bool, int, float)):
            attrs[metadata_key(key)] = value
    attrs.update(start.attributes)
    return bounded(attrs, max_length)


def usage_attributes(usage: TokenUsage) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        sc.GEN_AI_USAGE_INPUT_TOKENS: usage.input_tokens,
        sc.GEN_AI_USAGE_OUTPUT_TOKENS: usage.output_tokens,
        sc.OBS_USAGE_TOTAL_TOKENS: usage.total,
        sc.OBS_USAGE_SOURCE: usage.source.value,
    }
    if usage.cache_read_tokens:
        attrs[sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = usage.cache_read_tokens
    if usage.cache_write_tokens:
        attrs[sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] = usage.cache_write_tokens
    if usage.reasoning_tokens:
        attrs[sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = usage.reasoning_tokens
    return attrs


def end_attributes(kind: SpanKind, end: RunEnd, *, max_length: int) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    _put(attrs, sc.GEN_AI_RESPONSE_ID, end.response_id)
    _put(attrs, sc.GEN_AI_RESPONSE_MODEL, end.response_model)
    if end.finish_reasons:
        attrs[sc.GEN_AI_RESPONSE_FINISH_REASONS] = [str(r) for r in end.finish_reasons]
    if end.usage is not None:
        attrs.update(usage_attributes(end.usage))
    if end.cached_response:
        attrs[sc.OBS_USAGE_CACHED_RESPONSE] = True
    if end.documents is not None:
        attrs[sc.OBS_RETRIEVAL_DOCUMENT_COUNT] = len(end.documents)
        ids = [d.id for d in end.documents if d.id is not None]
        if ids:
            attrs[sc.OBS_RETRIEVAL_DOCUMENT_IDS] = ids
        scores = [float(d.score) for d in end.documents if d.score is not None]
        if scores:
            attrs[sc.OBS_RETRIEVAL_SCORES] = scores
    if end.embedding_dimensions is not None:
        attrs[sc.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = end.embedding_dimensions
    if end.embedding_input_count is not None:
        attrs[sc.OBS_EMBEDDING_INPUT_COUNT] = end.embedding_input_count
    attrs.update(end.attributes)
    return bounded(attrs, max_length)


def error_type_of(error: BaseException | str) -> str:
    """Low-cardinality ``error.type``: the exception's qualified class name."""
    if isinstance(error, str):
        return error
    cls = type(error)
    module = cls.__module__
    return cls.__qualname__ if module in {"builtins", "__main__"} else f"{module}.{cls.__qualname__}"


def bounded(attrs: Mapping[str, Any], max_length: int) -> dict[str, Any]:
    """Every value converted to a legal, size-bounded attribute; cut strings are marked with
    ``obs.truncated.<key>`` holding their original length."""
    out: dict[str, Any] = {}
    for key, value in attrs.items():
        # Fast paths for what nearly every attribute is; ``to_attribute`` handles the rest.
        t = type(value)
        if t is str:
            if len(value) <= max_length and value.isascii():
                out[key] = value
                continue
        elif t is bool or t is float or (t is int and _INT64_MIN <= value <= _INT64_MAX):
            out[key] = value
            continue
        converted, original = to_attribute(value, max_length)
        if converted is None:
            continue
        out[key] = converted
        if original is not None:
            out[sc.OBS_TRUNCATED_PREFIX + key] = original
    return out


_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


def _put(attrs: dict[str, Any], key: str, value: Any) -> None:
    if value is not None and value != "":
        attrs[key] = value


_MAX_KEY_LENGTH = 128


def metadata_key(key: Any) -> str:
    """``obs.metadata.<key>`` with the key made printable and bounded: keys come from users."""
    text = key if isinstance(key, str) else _safe_str(key)
    if len(text) > _MAX_KEY_LENGTH:
        count_drop("metadata_key_truncated")
        text = text[:_MAX_KEY_LENGTH]
    return sc.OBS_METADATA_PREFIX + clean_text(text, _MAX_KEY_LENGTH)[0]


def content_attributes(kind: SpanKind, value: Any, *, inputs: bool,
                       scrub: Callable[[str], str] | None,
                       scrub_value: Callable[[Any], Any] | None,
                       max_length: int) -> dict[str, Any]:
    """Prompt/answer content as the GenAI attribute for the run's kind, scrubbed first."""
    if isinstance(value, str):
        text = scrub(value) if scrub is not None else value
    elif scrub_value is not None:
        # Scrub the leaves, then encode: inside JSON text, escaped quotes hide values
        # (and key names such as "api_key") from the detectors.
        text = to_json(scrub_value(to_jsonable(value)))
    else:
        text = to_json(value)
        if scrub is not None:
            text = scrub(text)
    if kind is SpanKind.LLM:
        key = sc.GEN_AI_INPUT_MESSAGES if inputs else sc.GEN_AI_OUTPUT_MESSAGES
    elif kind is SpanKind.TOOL:
        key = sc.GEN_AI_TOOL_CALL_ARGUMENTS if inputs else sc.GEN_AI_TOOL_CALL_RESULT
    elif kind is SpanKind.RETRIEVER and inputs:
        key = sc.GEN_AI_RETRIEVAL_QUERY_TEXT
    else:
        key = sc.OBS_INPUT_VALUE if inputs else sc.OBS_OUTPUT_VALUE
    return bounded({key: text}, max_length)
