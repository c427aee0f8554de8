"""JSON documents shaped exactly like the OpenAI API's, built from a request and a reply.

Pure functions, kept apart from the HTTP plumbing, so the wire format can be read (and checked
against the ``openai`` package's types) in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from obs_core.testing._replies import ScriptedReply
from obs_core.testing._script import RecordedRequest, message_text
from obs_core.testing._tokens import (
    count_tokens,
    default_logprob,
    encode_base64_floats,
    scripted_embedding,
    split_tokens,
    token_logprob_entries,
)

JSON = dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class Meta:
    """What every document of one response shares."""

    response_id: str
    created: int
    model: str
    system_fingerprint: str
    call_id_prefix: str


@dataclass(frozen=True, kw_only=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def to_json(self) -> JSON:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
            "prompt_tokens_details": {"cached_tokens": self.cached_tokens, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": self.reasoning_tokens,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }


def choice_count(request: RecordedRequest) -> int:
    n = request.body.get("n")
    return n if isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= 128 else 1


def chat_prompt_tokens(request: RecordedRequest) -> int:
    """Tokens of every message's text plus the names and arguments of the tool calls in it.

    Tool definitions, roles and images are not counted: the numbers only need to be
    deterministic and derivable by a test, not to match a real tokenizer."""
    total = 0
    for message in request.messages:
        total += count_tokens(message_text(message.get("content")))
        calls = message.get("tool_calls")
        for call in calls if isinstance(calls, list) else []:
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict):
                total += count_tokens(str(function.get("name", "")))
                total += count_tokens(str(function.get("arguments", "")))
    return total


def answer_tokens(reply: ScriptedReply) -> int:
    """Visible tokens of one answer: its text plus its tool calls' names and arguments."""
    total = count_tokens(reply.content or "")
    for call in reply.tool_calls:
        total += count_tokens(call.name) + count_tokens(call.arguments_json)
    return total


def usage_for(reply: ScriptedReply, *, prompt_tokens: int, answers: int) -> Usage:
    """Usage for ``answers`` copies of ``reply`` (``n`` choices); overrides win."""
    completion = reply.completion_tokens
    if completion is None:
        completion = (answer_tokens(reply) + reply.reasoning_tokens) * answers
    return Usage(
        prompt_tokens=prompt_tokens if reply.prompt_tokens is None else reply.prompt_tokens,
        completion_tokens=completion,
        cached_tokens=reply.cached_tokens,
        reasoning_tokens=reply.reasoning_tokens,
    )


def _top_logprobs(request: RecordedRequest) -> int | None:
    """``None`` when the request did not ask for logprobs, else how many alternatives."""
    if request.body.get("logprobs") is not True:
        return None
    top = request.body.get("top_logprobs")
    return top if isinstance(top, int) and not isinstance(top, bool) and top > 0 else 0


def _tool_call_json(meta: Meta, reply: ScriptedReply, position: int) -> JSON:
    call = reply.tool_calls[position]
    return {
        "id": call.call_id or f"{meta.call_id_prefix}_{position}",
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments_json},
    }


def chat_completion(
    meta: Meta, request: RecordedRequest, reply: ScriptedReply, usage: Usage | None
) -> JSON:
    """A ``chat.completion`` document (non-streaming)."""
    top = _top_logprobs(request)
    message: JSON = {
        "role": "assistant",
        "content": reply.content,
        "refusal": None,
        "annotations": [],
    }
    if reply.tool_calls:
        message["tool_calls"] = [
            _tool_call_json(meta, reply, i) for i in range(len(reply.tool_calls))
        ]
    logprobs: JSON | None = None
    if top is not None:
        content = (
            None
            if reply.content is None
            else token_logprob_entries(
                split_tokens(reply.content), top_logprobs=top, scripted=reply.logprobs
            )
        )
        logprobs = {"content": content, "refusal": None}
    document: JSON = {
        "id": meta.response_id,
        "object": "chat.completion",
        "created": meta.created,
        "model": meta.model,
        "system_fingerprint": meta.system_fingerprint,
        "service_tier": "default",
        "choices": [
            {
                "index": index,
                "message": message,
                "logprobs": logprobs,
                "finish_reason": reply.effective_finish_reason,
            }
            for index in range(choice_count(request))
        ],
    }
    if usage is not None:
        document["usage"] = usage.to_json()
    return document


def _stream_pieces(reply: ScriptedReply) -> list[str]:
    if reply.chunks is not None:
        return [piece for piece in reply.chunks if piece]
    return split_tokens(reply.content or "")


def chat_chunks(
    meta: Meta, request: RecordedRequest, reply: ScriptedReply, usage: Usage | None
) -> list[JSON]:
    """The ``chat.completion.chunk`` documents of a stream, in order.

    Like the real API: a first delta with the role, content pieces, each tool call opened with
    its id and name and then fed its arguments in pieces, a last delta with the finish reason,
    and (when ``usage`` is given, i.e. ``stream_options.include_usage``) a usage chunk with no
    choices. With ``include_usage`` every other chunk carries ``"usage": null``.
    """
    top = _top_logprobs(request)
    include_usage = usage is not None

    def chunk(choices: list[JSON]) -> JSON:
        document: JSON = {
            "id": meta.response_id,
            "object": "chat.completion.chunk",
            "created": meta.created,
            "model": meta.model,
            "system_fingerprint": meta.system_fingerprint,
            "service_tier": "default",
            "choices": choices,
        }
        if include_usage:
            document["usage"] = None
        return document

    def choice(index: int, delta: JSON, *, logprobs: JSON | None = None) -> JSON:
        return {"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": None}

    chunks: list[JSON] = []
    for index in range(choice_count(request)):
        first_content = "" if reply.content is not None else None
        chunks.append(
            chunk([choice(index, {"role": "assistant", "content": first_content, "refusal": None})])
        )
        position = 0
        for piece in _stream_pieces(reply):
            logprobs: JSON | None = None
            if top is not None:
                tokens = split_tokens(piece)
                entries = token_logprob_entries(
                    tokens, top_logprobs=top, scripted=reply.logprobs, start=position
                )
                logprobs = {"content": entries, "refusal": None}
                position += len(tokens)
            chunks.append(chunk([choice(index, {"content": piece}, logprobs=logprobs)]))
        for call_index in range(len(reply.tool_calls)):
            call = _tool_call_json(meta, reply, call_index)
            opening = {
                "index": call_index,
                "id": call["id"],
                "type": "function",
                "function": {"name": call["function"]["name"], "arguments": ""},
            }
            chunks.append(chunk([choice(index, {"tool_calls": [opening]})]))
            for piece in split_tokens(call["function"]["arguments"]):
                delta = {"tool_calls": [{"index": call_index, "function": {"arguments": piece}}]}
                chunks.append(chunk([choice(index, delta)]))
        last = choice(index, {})
        last["finish_reason"] = reply.effective_finish_reason
        chunks.append(chunk([last]))
    if usage is not None:
        final = chunk([])
        final["usage"] = usage.to_json()
        chunks.append(final)
    return chunks


def _legacy_logprobs(text: str, reply: ScriptedReply, alternatives: int) -> JSON:
    tokens = split_tokens(text)
    values = [
        reply.logprobs[i]
        if reply.logprobs is not None and i < len(reply.logprobs)
        else default_logprob(token)
        for i, token in enumerate(tokens)
    ]
    offsets, offset = [], 0
    for token in tokens:
        offsets.append(offset)
        offset += len(token)
    top = [
        {token: value, **{f"{token}~{rank}": value - rank for rank in range(1, alternatives)}}
        for token, value in zip(tokens, values, strict=True)
    ]
    return {
        "tokens": tokens,
        "token_logprobs": values,
        "top_logprobs": top if alternatives > 0 else None,
        "text_offset": offsets,
    }


def _legacy_logprob_count(request: RecordedRequest) -> int | None:
    value = request.body.get("logprobs")
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def _legacy_finish_reason(reply: ScriptedReply) -> str:
    reason = reply.effective_finish_reason
    return reason if reason in ("stop", "length", "content_filter") else "stop"


def completion(
    meta: Meta,
    request: RecordedRequest,
    replies: Sequence[ScriptedReply],
    usage: Usage | None,
    *,
    stream_pieces: bool = False,
) -> list[JSON]:
    """Legacy ``text_completion`` documents, one reply per prompt of the request.

    Non-streaming it is one document; streaming (``stream_pieces``) it is one document per text
    piece, then the finishing ones and, with ``usage``, a usage document with no choices.
    """
    n = choice_count(request)
    alternatives = _legacy_logprob_count(request)

    def document(choices: list[JSON]) -> JSON:
        doc: JSON = {
            "id": meta.response_id,
            "object": "text_completion",
            "created": meta.created,
            "model": meta.model,
            "system_fingerprint": meta.system_fingerprint,
            "choices": choices,
        }
        if usage is not None and not stream_pieces:
            doc["usage"] = usage.to_json()
        return doc

    def choice(index: int, text: str, reply: ScriptedReply, finish: str | None) -> JSON:
        logprobs = None if alternatives is None else _legacy_logprobs(text, reply, alternatives)
        return {"text": text, "index": index, "logprobs": logprobs, "finish_reason": finish}

    if not stream_pieces:
        choices = [
            choice(p * n + j, reply.content or "", reply, _legacy_finish_reason(reply))
            for p, reply in enumerate(replies)
            for j in range(n)
        ]
        return [document(choices)]
    documents: list[JSON] = []
    for p, reply in enumerate(replies):
        for j in range(n):
            index = p * n + j
            documents.extend(
                document([choice(index, piece, reply, None)]) for piece in _stream_pieces(reply)
            )
            documents.append(document([choice(index, "", reply, _legacy_finish_reason(reply))]))
    if usage is not None:
        final = document([])
        final["usage"] = usage.to_json()
        documents.append(final)
    return documents


def embedding_inputs(body: JSON) -> list[str | list[int]] | None:
    """The inputs of an embeddings request, or ``None`` when ``input`` has no valid shape."""
    raw = body.get("input")
    if isinstance(raw, str):
        return [raw]
    if not isinstance(raw, list) or not raw:
        return None
    if all(isinstance(item, int) and not isinstance(item, bool) for item in raw):
        return [list(raw)]
    inputs: list[str | list[int]] = []
    for item in raw:
        if isinstance(item, str):
            inputs.append(item)
        elif isinstance(item, list) and all(isinstance(i, int) for i in item):
            inputs.append(list(item))
        else:
            return None
    return inputs


def embedding_prompt_tokens(inputs: Sequence[str | list[int]]) -> int:
    return sum(count_tokens(item) if isinstance(item, str) else len(item) for item in inputs)


def embeddings(
    *, model: str, inputs: Sequence[str | list[int]], dimensions: int, base64: bool, usage: Usage
) -> JSON:
    """A ``list`` of ``embedding`` objects; vectors from :func:`scripted_embedding`."""
    data: list[JSON] = []
    for index, item in enumerate(inputs):
        vector = scripted_embedding(item, dimensions=dimensions)
        data.append(
            {
                "object": "embedding",
                "index": index,
                "embedding": encode_base64_floats(vector) if base64 else vector,
            }
        )
    return {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": usage.prompt_tokens, "total_tokens": usage.prompt_tokens},
    }
