"""Judge models: one small interface over LangChain chat models, LlamaIndex LLMs and any
OpenAI-compatible HTTP endpoint.

Every call runs with OpenTelemetry instrumentation suppressed, so obs's own wrappers (and any
other instrumentation honouring the key) do not record the judge's tokens and cost on the
application's spans and roll-ups; the judge's usage is reported separately in
:class:`JudgeReply` and ends up in ``EvalResult.details``.
"""

from __future__ import annotations

import contextlib
import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from opentelemetry import context as otel_context

__all__ = [
    "JudgeError",
    "JudgeModel",
    "JudgeReply",
    "LangChainJudgeModel",
    "LlamaIndexJudgeModel",
    "OpenAIJudgeModel",
    "as_judge_model",
    "suppressed_instrumentation",
]

Message = Mapping[str, str]
"""``{"role": "system" | "user" | "assistant", "content": "..."}``."""

_PLAIN_SUPPRESS_KEY = "suppress_instrumentation"
_MAX_ERROR_BODY = 300


class JudgeError(RuntimeError):
    """The judge endpoint answered with an error or an unreadable document."""


@dataclass(frozen=True, kw_only=True)
class JudgeReply:
    """What one judge call produced: its text and what it cost in tokens."""

    text: str
    input_tokens: int = 0
    output_tokens: int = 0
    model: str = ""
    """The model that answered, as the endpoint reported it (else the requested one)."""


@runtime_checkable
class JudgeModel(Protocol):
    """A model that can be asked a chat-style question. Implementations may raise; the judge
    evaluators turn exceptions into failure records."""

    @property
    def model_id(self) -> str:
        """Stable identity of the judge (part of every cache key)."""
        ...

    def complete(self, messages: Sequence[Message]) -> JudgeReply: ...


@contextlib.contextmanager
def suppressed_instrumentation() -> Iterator[None]:
    """Set OpenTelemetry's suppress-instrumentation keys for the block (both spellings in use)."""
    ctx = otel_context.set_value(_PLAIN_SUPPRESS_KEY, True)
    api_key = getattr(otel_context, "_SUPPRESS_INSTRUMENTATION_KEY", None)
    if api_key is not None:
        ctx = otel_context.set_value(api_key, True, ctx)
    token = otel_context.attach(ctx)
    try:
        yield
    finally:
        otel_context.detach(token)


class OpenAIJudgeModel:
    """Any ``/chat/completions`` endpoint, spoken with the standard library (no client needed)."""

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout_s: float = 30.0,
        temperature: float = 0.0,
        json_mode: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.timeout_s = timeout_s
        self.temperature = temperature
        self.json_mode = json_mode
        self._headers = {"Content-Type": "application/json", **(headers or {})}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"

    @property
    def model_id(self) -> str:
        return f"openai:{self.model}"

    def complete(self, messages: Sequence[Message]) -> JudgeReply:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [dict(m) for m in messages],
            "temperature": self.temperature,
        }
        if self.json_mode:
            body["response_format"] = {"type": "json_object"}
        request = urllib.request.Request(
            f"{self.base_url}/chat/completions",
            data=json.dumps(body).encode("utf-8"),
            headers=self._headers,
            method="POST",
        )
        try:
            with suppressed_instrumentation(), urllib.request.urlopen(
                request, timeout=self.timeout_s
            ) as response:
                document = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:_MAX_ERROR_BODY].decode("utf-8", "replace")
            raise JudgeError(f"judge endpoint answered HTTP {exc.code}: {detail}") from exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, (TimeoutError, socket.timeout)):
                raise TimeoutError(f"judge did not answer within {self.timeout_s}s") from exc
            raise JudgeError(f"judge endpoint unreachable: {exc.reason}") from exc
        except json.JSONDecodeError as exc:
            raise JudgeError("judge endpoint answered with a non-JSON document") from exc
        return _reply_from_openai(document, requested=self.model)


def _reply_from_openai(document: Any, *, requested: str) -> JudgeReply:
    try:
        message = document["choices"][0]["message"]
    except (KeyError, IndexError, TypeError) as exc:
        raise JudgeError("judge response has no choices[0].message") from exc
    content = message.get("content") if isinstance(message, Mapping) else None
    usage = document.get("usage") if isinstance(document, Mapping) else None
    usage = usage if isinstance(usage, Mapping) else {}
    model = document.get("model")
    return JudgeReply(
        text=content if isinstance(content, str) else "",
        input_tokens=_int(usage.get("prompt_tokens")),
        output_tokens=_int(usage.get("completion_tokens")),
        model=model if isinstance(model, str) and model else requested,
    )


class LangChainJudgeModel:
    """A LangChain chat model (anything with ``invoke(messages)`` returning a message)."""

    def __init__(self, chat_model: Any) -> None:
        if not callable(getattr(chat_model, "invoke", None)):
            raise TypeError("a LangChain judge needs an object with .invoke(messages)")
        self.chat_model = chat_model

    @property
    def model_id(self) -> str:
        return f"langchain:{_model_name(self.chat_model)}"

    def complete(self, messages: Sequence[Message]) -> JudgeReply:
        with suppressed_instrumentation():
            result = self.chat_model.invoke([dict(m) for m in messages])
        usage = getattr(result, "usage_metadata", None)
        usage = usage if isinstance(usage, Mapping) else {}
        meta = getattr(result, "response_metadata", None)
        meta = meta if isinstance(meta, Mapping) else {}
        model = meta.get("model_name") or meta.get("model")
        return JudgeReply(
            text=_text_of(getattr(result, "content", result)),
            input_tokens=_int(usage.get("input_tokens")),
            output_tokens=_int(usage.get("output_tokens")),
            model=model if isinstance(model, str) else _model_name(self.chat_model),
        )


class LlamaIndexJudgeModel:
    """A LlamaIndex LLM, asked through ``complete(prompt)`` so obs-core needs none of its types."""

    def __init__(self, llm: Any) -> None:
        if not callable(getattr(llm, "complete", None)):
            raise TypeError("a LlamaIndex judge needs an object with .complete(prompt)")
        self.llm = llm

    @property
    def model_id(self) -> str:
        return f"llamaindex:{_model_name(self.llm)}"

    def complete(self, messages: Sequence[Message]) -> JudgeReply:
        prompt = "\n\n".join(f"{m['role'].upper()}:\n{m['content']}" for m in messages)
        with suppressed_instrumentation():
            result = self.llm.complete(prompt)
        raw = getattr(result, "raw", None)
        usage = _field(raw, "usage")
        return JudgeReply(
            text=_text_of(getattr(result, "text", result)),
            input_tokens=_int(_field(usage, "prompt_tokens")),
            output_tokens=_int(_field(usage, "completion_tokens")),
            model=_model_name(self.llm),
        )


def as_judge_model(judge: Any) -> JudgeModel:
    """Wrap whatever the user passed: a :class:`JudgeModel`, a LangChain chat model (has
    ``invoke``) or a LlamaIndex LLM (has ``complete``)."""
    if isinstance(judge, JudgeModel):
        return judge
    if callable(getattr(judge, "invoke", None)):
        return LangChainJudgeModel(judge)
    if callable(getattr(judge, "complete", None)):
        return LlamaIndexJudgeModel(judge)
    raise TypeError(
        f"cannot use {type(judge).__name__} as a judge: pass a LangChain chat model, a "
        "LlamaIndex LLM or an OpenAIJudgeModel"
    )


def _model_name(model: Any) -> str:
    for attribute in ("model_name", "model", "model_id"):
        value = getattr(model, attribute, None)
        if isinstance(value, str) and value:
            return value
    metadata = getattr(model, "metadata", None)
    name = getattr(metadata, "model_name", None)
    return name if isinstance(name, str) and name else type(model).__name__


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p if isinstance(p, str) else _field(p, "text") for p in content]
        return "".join(p for p in parts if isinstance(p, str))
    return str(content)


def _field(obj: Any, name: str) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0
