"""Which reply a request gets: matching rules, then the queue, then the fallback responder.

Rules come first so concurrent tests can pin an answer to each request by its content,
independent of arrival order; the queue serves sequential scripts ("tool call, then final
answer"); the responder keeps any unscripted request answerable.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from obs_core.testing._replies import GENERATION_ENDPOINTS, Endpoint, ScriptedReply


def message_text(content: Any) -> str:
    """Text of a message ``content``: a string or a list of parts, of which text parts count."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(part.get("text", ""))
            for part in content
            if isinstance(part, Mapping) and part.get("type") in ("text", "input_text")
        )
    return ""


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


@dataclass(frozen=True, kw_only=True)
class RecordedRequest:
    """One request as the server received it, for assertions and for matching rules."""

    index: int
    """Arrival order on this server, from 0."""
    method: str
    path: str
    endpoint: Endpoint | None
    """``None`` for paths the server does not serve."""
    body: dict[str, Any]
    """The parsed JSON body; empty when the body was not a JSON object."""
    headers: Mapping[str, str]
    """Request headers with lower-case names."""

    @property
    def model(self) -> str:
        """The requested model, or ``""`` when the body names none."""
        model = self.body.get("model")
        return model if isinstance(model, str) else ""

    @property
    def stream(self) -> bool:
        """Whether the client asked for server-sent events."""
        return self.body.get("stream") is True

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Chat messages (only the well-formed ones), empty for other endpoints."""
        messages = self.body.get("messages")
        if not isinstance(messages, list):
            return []
        return [message for message in messages if isinstance(message, dict)]

    @property
    def last_text(self) -> str:
        """What a rule's ``contains`` looks at: the last chat message's text, the prompt of a
        legacy completion, or the embeddings input (several inputs joined by newlines)."""
        if self.endpoint == "chat":
            messages = self.messages
            return message_text(messages[-1].get("content")) if messages else ""
        if self.endpoint == "completions":
            return "\n".join(_strings(self.body.get("prompt")))
        if self.endpoint == "embeddings":
            return "\n".join(_strings(self.body.get("input")))
        return ""


@dataclass(frozen=True, kw_only=True)
class ReportedUsage:
    """Token usage exactly as the server sent it in one response."""

    request_index: int
    endpoint: Endpoint
    response_id: str
    """The response's ``id``; embeddings responses carry none on the wire, so theirs is only
    for telling entries apart."""
    model: str
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cached_tokens: int
    reasoning_tokens: int


Responder = Callable[[RecordedRequest], ScriptedReply]
"""Builds a reply from the request; used when no rule matches and the queue is empty."""


def echo_reply(request: RecordedRequest) -> ScriptedReply:
    """The default fallback: a deterministic answer that quotes the request's last text."""
    return ScriptedReply(content=f"Echo: {request.last_text}")


@dataclass(kw_only=True)
class _Rule:
    contains: str | None
    matches: Callable[[RecordedRequest], bool] | None
    reply: ScriptedReply | Responder
    endpoints: frozenset[Endpoint]
    remaining: int | None

    def applies_to(self, request: RecordedRequest) -> bool:
        if request.endpoint not in self.endpoints or self.remaining == 0:
            return False
        if self.contains is not None and self.contains not in request.last_text:
            return False
        return self.matches is None or self.matches(request)


class Script:
    """The thread-safe scripting state shared by all request threads of one server."""

    def __init__(self, responder: Responder) -> None:
        self._lock = threading.Lock()
        self._queue: deque[tuple[frozenset[Endpoint], ScriptedReply]] = deque()
        self._rules: list[_Rule] = []
        self.responder = responder

    def enqueue(self, replies: Iterable[ScriptedReply], endpoints: frozenset[Endpoint]) -> None:
        with self._lock:
            self._queue.extend((endpoints, reply) for reply in replies)

    def add_rule(
        self,
        reply: ScriptedReply | Responder,
        *,
        contains: str | None,
        matches: Callable[[RecordedRequest], bool] | None,
        endpoints: frozenset[Endpoint],
        times: int | None,
    ) -> None:
        if contains is None and matches is None:
            raise ValueError("a rule needs `contains` or `matches`")
        if times is not None and times < 1:
            raise ValueError("times must be at least 1 (or None for unlimited)")
        rule = _Rule(
            contains=contains, matches=matches, reply=reply, endpoints=endpoints, remaining=times
        )
        with self._lock:
            self._rules.append(rule)

    @property
    def pending(self) -> int:
        """Queued replies not served yet."""
        with self._lock:
            return len(self._queue)

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self._rules.clear()

    def resolve(self, request: RecordedRequest) -> ScriptedReply | None:
        """The reply for ``request``; ``None`` means "compute the default" (embeddings).

        Predicates and responders run outside the lock: they are test code and may be slow.
        """
        reply = self._take_rule_or_queued(request)
        if reply is None and request.endpoint in GENERATION_ENDPOINTS:
            reply = self.responder
        if reply is None or isinstance(reply, ScriptedReply):
            return reply
        produced = reply(request)
        if not isinstance(produced, ScriptedReply):
            raise TypeError(f"a responder returned {type(produced).__name__}, not ScriptedReply")
        return produced

    def _take_rule_or_queued(self, request: RecordedRequest) -> ScriptedReply | Responder | None:
        with self._lock:
            rules = list(self._rules)
        for rule in rules:
            if not rule.applies_to(request):
                continue
            with self._lock:
                if rule.remaining == 0:
                    continue
                if rule.remaining is not None:
                    rule.remaining -= 1
            return rule.reply
        with self._lock:
            for position, (endpoints, queued) in enumerate(self._queue):
                if request.endpoint in endpoints:
                    del self._queue[position]
                    return queued
        return None
