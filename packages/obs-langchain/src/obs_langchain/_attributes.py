"""Pure functions from LangChain callback arguments to obs run records (models are in
:mod:`obs_langchain._model_attributes`).

Everything here is a plain function of its arguments: no handler state, no recorder, no I/O, so
each mapping can be tested on its own. This is the hot path (every callback passes through it):
payloads are shallow role/content views, never deep copies, and records are built with their
normal constructors (pydantic-core validation of these small records is faster than
``model_construct``, which inspects default factories on every call).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from obs_core import RetrievedDocument, RunEnd, RunStart, SpanKind

# LangChain's own bookkeeping tags and metadata: framework plumbing, not the user's labels.
_INTERNAL_TAG_PREFIXES = ("seq:step:", "graph:step:", "map:key:", "langsmith:")
_INTERNAL_METADATA_PREFIXES = ("ls_", "lc_", "langgraph_", "checkpoint_", "__")
_CONVERSATION_KEYS = ("thread_id", "session_id", "conversation_id")
_IDENTITY_KEYS = frozenset({*_CONVERSATION_KEYS, "user_id", "user_cohort", "pipeline_version"})
_SCALARS = (str, bool, int, float)

_SCORE_KEYS = ("relevance_score", "score", "similarity_score", "_score")
"""First match wins: LangChain's rerankers (Cohere, cross-encoder, FlashRank) add
``relevance_score`` next to whatever score the base retriever put there, and theirs is newer."""
_DOC_ID_KEYS = ("id", "doc_id", "document_id")
_MAX_DOC_METADATA = 32


# ---------------------------------------------------------------------------- shared pieces
def run_name(serialized: Mapping[str, Any] | None, kwargs: Mapping[str, Any], default: str) -> str:
    """The run's name as LangChain reports it (``run_name`` / runnable name), else the class."""
    name = kwargs.get("name")
    if isinstance(name, str) and name:
        return name
    if serialized:
        name = serialized.get("name")
        if isinstance(name, str) and name:
            return name
        ident = serialized.get("id")
        if isinstance(ident, list) and ident and isinstance(ident[-1], str):
            return ident[-1]
    return default


def user_tags(tags: Sequence[str] | None) -> list[str]:
    """Tags without LangChain's positional bookkeeping (``seq:step:2``, ``graph:step:1``...)."""
    if not tags:
        return []
    return [t for t in tags if isinstance(t, str) and not t.startswith(_INTERNAL_TAG_PREFIXES)]


def user_metadata(metadata: Mapping[str, Any] | None,
                  keys: frozenset[str] | None) -> dict[str, Any]:
    """Scalar metadata the user set; framework keys and identity keys are left out (identity
    gets its own attributes). ``keys`` restricts the result to an allow-list."""
    if not metadata:
        return {}
    out: dict[str, Any] = {}
    for key, value in metadata.items():
        if not isinstance(value, _SCALARS) or not isinstance(key, str):
            continue
        if keys is not None:
            if key in keys and key not in _IDENTITY_KEYS:
                out[key] = value
        elif key not in _IDENTITY_KEYS and not key.startswith(_INTERNAL_METADATA_PREFIXES):
            out[key] = value
    return out


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, bool) or not isinstance(value, _SCALARS):
        return None
    text = str(value)
    return text or None


def identity(metadata: Mapping[str, Any] | None) -> dict[str, str | None]:
    """Conversation and user identity from run metadata (LangGraph copies the configurable
    ``thread_id`` there)."""
    if not metadata:
        return {}
    conversation = None
    for key in _CONVERSATION_KEYS:
        conversation = _text(metadata.get(key))
        if conversation is not None:
            break
    return {
        "conversation_id": conversation,
        "user_id": _text(metadata.get("user_id")),
        "user_cohort": _text(metadata.get("user_cohort")),
        "pipeline_version": _text(metadata.get("pipeline_version")),
    }


def labels(tags: Sequence[str] | None, metadata: Mapping[str, Any] | None,
            metadata_keys: frozenset[str] | None) -> dict[str, Any]:
    return {
        "tags": user_tags(tags),
        "metadata": user_metadata(metadata, metadata_keys),
        **identity(metadata),
    }


# ---------------------------------------------------------------------------- chains, agents
def chain_start(*, name: str, inputs: Any, tags: Sequence[str] | None,
                metadata: Mapping[str, Any] | None, metadata_keys: frozenset[str] | None,
                payloads: bool) -> RunStart:
    """A chain, runnable or LangGraph node."""
    return RunStart(
        kind=SpanKind.CHAIN, name=name, inputs=inputs if payloads else None,
        **labels(tags, metadata, metadata_keys),
    )


def agent_start(*, name: str, step_limit: int | None, inputs: Any, tags: Sequence[str] | None,
                metadata: Mapping[str, Any] | None, metadata_keys: frozenset[str] | None,
                payloads: bool) -> RunStart:
    """An agent loop (``invoke_agent``)."""
    return RunStart(
        kind=SpanKind.AGENT, name=name, agent_step_limit=step_limit,
        inputs=inputs if payloads else None, **labels(tags, metadata, metadata_keys),
    )


def hidden_start(name: str) -> RunStart:
    """Framework plumbing: tracked for parentage, never a span."""
    return RunStart(kind=SpanKind.CHAIN, name=name, hidden=True)


def chain_end(outputs: Any, *, payloads: bool) -> RunEnd:
    return RunEnd(outputs=outputs if payloads else None)


# ---------------------------------------------------------------------------- tools
def tool_start(*, serialized: Mapping[str, Any] | None, input_str: str, inputs: Any,
               kwargs: Mapping[str, Any], tags: Sequence[str] | None,
               metadata: Mapping[str, Any] | None, metadata_keys: frozenset[str] | None,
               payloads: bool) -> RunStart:
    description = serialized.get("description") if serialized else None
    call_id = kwargs.get("tool_call_id")
    if call_id is None and isinstance(inputs, Mapping):
        call_id = inputs.get("tool_call_id")
    return RunStart(
        kind=SpanKind.TOOL,
        name=run_name(serialized, kwargs, "tool"),
        tool_call_id=call_id if isinstance(call_id, str) else None,
        tool_description=description if isinstance(description, str) else None,
        tool_type="function",
        inputs=(inputs if inputs is not None else input_str) if payloads else None,
        **labels(tags, metadata, metadata_keys),
    )


def tool_reported_error(output: Any) -> bool:
    """A tool that handled its own exception answers with an error ``ToolMessage``."""
    return getattr(output, "type", None) == "tool" and getattr(output, "status", None) == "error"


def tool_end(output: Any, *, payloads: bool) -> RunEnd:
    if not payloads:
        return RunEnd()
    if getattr(output, "type", None) == "tool":
        output = getattr(output, "content", output)
    return RunEnd(outputs=output)


# ---------------------------------------------------------------------------- retrievers
def retriever_start(*, serialized: Mapping[str, Any] | None, query: str,
                    kwargs: Mapping[str, Any], tags: Sequence[str] | None,
                    metadata: Mapping[str, Any] | None, metadata_keys: frozenset[str] | None,
                    payloads: bool) -> RunStart:
    source = None
    if metadata:
        for key in ("ls_vector_store_provider", "ls_retriever_name"):
            value = metadata.get(key)
            if isinstance(value, str) and value:
                source = value
                break
    return RunStart(
        kind=SpanKind.RETRIEVER,
        name=run_name(serialized, kwargs, "retriever"),
        data_source=source,
        inputs=query if payloads else None,
        **labels(tags, metadata, metadata_keys),
    )


def _score(metadata: Mapping[str, Any]) -> float | None:
    for key in _SCORE_KEYS:
        value = metadata.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
    return None


def retrieved_document(document: Any, *, payloads: bool) -> RetrievedDocument:
    metadata = getattr(document, "metadata", None)
    metadata = metadata if isinstance(metadata, Mapping) else {}
    doc_id = getattr(document, "id", None)
    if doc_id is None:
        for key in _DOC_ID_KEYS:
            doc_id = metadata.get(key)
            if doc_id is not None:
                break
    kept: dict[str, Any] = {}
    content = None
    if payloads:
        for key, value in metadata.items():
            if len(kept) >= _MAX_DOC_METADATA:
                break
            if isinstance(key, str) and isinstance(value, _SCALARS):
                kept[key] = value
        text = getattr(document, "page_content", None)
        content = text if isinstance(text, str) else None
    return RetrievedDocument(
        id=None if doc_id is None else str(doc_id), score=_score(metadata), metadata=kept,
        content=content,
    )


def retriever_end(documents: Iterable[Any], *, payloads: bool) -> RunEnd:
    return RunEnd(
        documents=[retrieved_document(d, payloads=payloads) for d in documents],
    )

