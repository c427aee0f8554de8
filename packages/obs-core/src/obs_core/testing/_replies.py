"""What a scripted model answers: replies, tool calls and API errors as plain values.

A reply is a value rather than a callback so a test reads as a script ("first a tool call, then
this text") and the same reply can be served as a plain response or as a stream.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Endpoint = Literal["chat", "completions", "embeddings"]
"""Which OpenAI endpoint a request hit: ``/v1/chat/completions``, ``/v1/completions`` or
``/v1/embeddings``."""

GENERATION_ENDPOINTS: frozenset[Endpoint] = frozenset({"chat", "completions"})
"""Where scripted replies apply unless told otherwise: embeddings are computed, not scripted."""

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "invalid_request_error",
    409: "conflict_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
}


@dataclass(frozen=True, kw_only=True)
class ScriptedToolCall:
    """One function call the scripted model asks the application to make."""

    name: str
    """Function name, as declared in the request's ``tools``."""
    arguments: Mapping[str, Any] | str = field(default_factory=dict)
    """Arguments as a mapping (sent as JSON) or as a raw string, e.g. to script invalid JSON."""
    call_id: str | None = None
    """The ``tool_calls[].id``; the server numbers calls itself when left out."""

    @property
    def arguments_json(self) -> str:
        """The arguments exactly as they go on the wire."""
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(dict(self.arguments), separators=(", ", ": "))


@dataclass(frozen=True, kw_only=True)
class ScriptedError:
    """An OpenAI-style error: HTTP status plus the ``{"error": {...}}`` body the client parses."""

    status: int = 500
    """HTTP status; the ``openai`` client maps it to its ``APIStatusError`` subclasses."""
    message: str = "scripted failure"
    type: str | None = None
    """``error.type``; derived from the status when left out."""
    code: str | None = None
    param: str | None = None

    def body(self) -> dict[str, Any]:
        """The JSON error document, shaped like the real API's."""
        default_type = "server_error" if self.status >= 500 else "invalid_request_error"
        return {
            "error": {
                "message": self.message,
                "type": self.type or _ERROR_TYPES.get(self.status, default_type),
                "param": self.param,
                "code": self.code,
            }
        }


def _coerce_call(call: ScriptedToolCall | tuple[str, Mapping[str, Any] | str]) -> ScriptedToolCall:
    if isinstance(call, ScriptedToolCall):
        return call
    name, arguments = call
    return ScriptedToolCall(name=name, arguments=arguments)


@dataclass(frozen=True, kw_only=True)
class ScriptedReply:
    """One answer of the scripted model, for any of the endpoints.

    Token counts default to what the server computes from the request and the answer with
    :func:`count_tokens`; the override fields exist for tests of cost, cache and reasoning
    accounting that need specific numbers.
    """

    content: str | None = None
    """Answer text; ``None`` with tool calls gives ``content: null`` as the real API does.
    For embeddings requests it is ignored."""
    tool_calls: tuple[ScriptedToolCall, ...] = ()
    finish_reason: str | None = None
    """Defaults to ``tool_calls`` when there are tool calls, ``stop`` otherwise."""
    chunks: tuple[str, ...] | None = None
    """How a streamed answer is split; by default one chunk per token. Must join to
    ``content`` when both are given."""
    model: str | None = None
    """Model name in the response; by default the requested one is echoed."""
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    """Includes ``reasoning_tokens`` when computed, as in the real API."""
    cached_tokens: int = 0
    """Reported as ``usage.prompt_tokens_details.cached_tokens``."""
    reasoning_tokens: int = 0
    """Reported as ``usage.completion_tokens_details.reasoning_tokens``."""
    omit_usage: bool = False
    """Leave ``usage`` out entirely, to test clients and handlers that must cope without it."""
    logprobs: tuple[float, ...] | None = None
    """Log-probabilities of the answer's tokens, by position, when the request asks for
    logprobs; tokens beyond the tuple get pseudo values."""
    delay: float = 0.0
    """Seconds to wait before answering (for timeout and latency tests)."""
    chunk_delay: float = 0.0
    """Seconds to wait between streamed chunks (for time-to-first-token tests)."""
    error: ScriptedError | None = None
    """Answer with this error instead of a result."""
    error_after_chunks: int | None = None
    """With ``error`` and a streaming request: send this many chunks, then an error event."""
    abort_after_chunks: int | None = None
    """With a streaming request: send this many chunks, then drop the connection."""
    hang: bool = False
    """Never answer; the request is only released (by closing its connection) when the
    server stops."""
    headers: Mapping[str, str] = field(default_factory=dict)
    """Extra response headers, e.g. ``retry-after-ms`` or ``x-should-retry`` for retry tests."""

    def __post_init__(self) -> None:
        if self.chunks is not None:
            if self.content is not None and "".join(self.chunks) != self.content:
                raise ValueError("chunks must join to content")
            if self.content is None:
                object.__setattr__(self, "content", "".join(self.chunks))
        for name in ("prompt_tokens", "completion_tokens", "cached_tokens", "reasoning_tokens"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must not be negative")

    @property
    def effective_finish_reason(self) -> str:
        """The finish reason that goes on the wire."""
        if self.finish_reason is not None:
            return self.finish_reason
        return "tool_calls" if self.tool_calls else "stop"

    @classmethod
    def text(cls, content: str, **options: Any) -> ScriptedReply:
        """A plain text answer; ``options`` are any other :class:`ScriptedReply` fields."""
        return cls(content=content, **options)

    @classmethod
    def tool_call(
        cls,
        name: str,
        arguments: Mapping[str, Any] | str | None = None,
        *,
        call_id: str | None = None,
        content: str | None = None,
        **options: Any,
    ) -> ScriptedReply:
        """An answer that calls one function, e.g. ``tool_call("get_weather", {"city": "Paris"})``."""
        call = ScriptedToolCall(
            name=name, arguments={} if arguments is None else arguments, call_id=call_id
        )
        return cls(content=content, tool_calls=(call,), **options)

    @classmethod
    def parallel_tool_calls(
        cls,
        *calls: ScriptedToolCall | tuple[str, Mapping[str, Any] | str],
        content: str | None = None,
        **options: Any,
    ) -> ScriptedReply:
        """An answer that calls several functions at once; calls may be ``(name, args)`` pairs."""
        if not calls:
            raise ValueError("parallel_tool_calls needs at least one call")
        return cls(content=content, tool_calls=tuple(_coerce_call(c) for c in calls), **options)

    @classmethod
    def http_error(
        cls,
        status: int,
        message: str = "scripted failure",
        *,
        type: str | None = None,
        code: str | None = None,
        after_chunks: int | None = None,
        **options: Any,
    ) -> ScriptedReply:
        """An API error; with ``after_chunks`` a stream fails midway instead (``content``
        in ``options`` provides the chunks sent before the failure)."""
        scripted = ScriptedError(status=status, message=message, type=type, code=code)
        return cls(error=scripted, error_after_chunks=after_chunks, **options)

    @classmethod
    def hanging(cls) -> ScriptedReply:
        """A reply that never comes, for timeout and shutdown tests."""
        return cls(hang=True)
