"""Tracing a raw OpenAI-compatible client: ``instrument_openai(client)``.

Duck-typed on purpose: core never imports ``openai``, and the same wrapper serves any client
object shaped like it (Azure, vLLM, OpenRouter, local servers). Only the given client object is
changed (its ``chat.completions.create`` and ``embeddings.create``), never the class, and
:func:`uninstrument_openai` restores it exactly.
"""

from __future__ import annotations

import functools
import inspect
import uuid
from collections.abc import Callable
from typing import Any

from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import TracerProvider

from obs_core._guard import guard
from obs_core._openai_response import end_from_openai_response, field, usage_from_openai
from obs_core._recorder import Recorder
from obs_core._shared_recorder import shared_recorder
from obs_core.config import current_settings, ensure_configured
from obs_core.manual import _current_run
from obs_core.runs import RunEnd, RunStart
from obs_core.spans import SpanKind

_PARAMS = {"temperature": "temperature", "top_p": "top_p", "max_tokens": "max_tokens",
           "max_completion_tokens": "max_tokens", "frequency_penalty": "frequency_penalty",
           "presence_penalty": "presence_penalty", "seed": "seed", "n": "choice.count",
           "stop": "stop_sequences", "stream": "stream"}
_ORIGINALS = "_obs_originals"


def instrument_openai(client: Any, *, provider: str = "openai",
                      tracer_provider: TracerProvider | None = None,
                      meter_provider: MeterProvider | None = None) -> Any:
    """Trace ``client.chat.completions.create`` and ``client.embeddings.create`` (sync or async,
    streaming included). Idempotent; returns the client."""
    if getattr(client, _ORIGINALS, None) is not None:
        return client
    if tracer_provider is None and meter_provider is None:
        ensure_configured()
    recorder = shared_recorder(tracer_provider, meter_provider, current_settings())
    originals: dict[str, tuple[Any, Any]] = {}
    completions = field(field(client, "chat"), "completions")
    if completions is not None and callable(getattr(completions, "create", None)):
        originals["chat"] = (completions, completions.__dict__.get("create"))
        completions.create = _wrap(completions.create, recorder, provider, _chat_start, _chat_end)
    embeddings = field(client, "embeddings")
    if embeddings is not None and callable(getattr(embeddings, "create", None)):
        originals["embeddings"] = (embeddings, embeddings.__dict__.get("create"))
        embeddings.create = _wrap(embeddings.create, recorder, provider, _embed_start, _embed_end)
    setattr(client, _ORIGINALS, originals)
    return client


def uninstrument_openai(client: Any) -> None:
    originals: dict[str, tuple[Any, Any]] | None = getattr(client, _ORIGINALS, None)
    if originals is None:
        return
    for resource, original in originals.values():
        if original is None:
            resource.__dict__.pop("create", None)
        else:
            resource.create = original
    delattr(client, _ORIGINALS)


StartFn = Callable[[dict[str, Any], str], RunStart]
EndFn = Callable[[Any], RunEnd]


def _wrap(create: Any, recorder: Recorder, provider: str, make_start: StartFn,
          make_end: EndFn) -> Any:
    """One wrapper for sync and async clients: an async client's ``create`` returns an awaitable
    (its coroutine-ness is hidden behind decorators, so it is recognised by the result)."""

    async def finish_later(run_id: uuid.UUID, pending: Any, kwargs: dict[str, Any]) -> Any:
        try:
            result = await pending
        except BaseException as exc:
            recorder.error(run_id, exc)
            raise
        return _finish(recorder, run_id, result, kwargs, make_end)

    @functools.wraps(create)
    def call(*args: Any, **kwargs: Any) -> Any:
        run_id = _begin(recorder, kwargs, provider, make_start)
        try:
            result = create(*args, **kwargs)
        except BaseException as exc:
            recorder.error(run_id, exc)
            raise
        if inspect.isawaitable(result):
            return finish_later(run_id, result, kwargs)
        return _finish(recorder, run_id, result, kwargs, make_end)

    return call


def _begin(recorder: Recorder, kwargs: dict[str, Any], provider: str, make_start: StartFn) -> uuid.UUID:
    run_id = uuid.uuid4()
    with guard("openai.start"):
        recorder.start(run_id, _current_run.get(), make_start(kwargs, provider))
    return run_id


def _finish(recorder: Recorder, run_id: uuid.UUID, result: Any, kwargs: dict[str, Any],
            make_end: EndFn) -> Any:
    if kwargs.get("stream"):
        if hasattr(result, "__aiter__"):
            return _AsyncStream(result, recorder, run_id)
        if hasattr(result, "__iter__"):
            return _Stream(result, recorder, run_id)
    end = None
    with guard("openai.end"):
        end = make_end(result)
    recorder.end(run_id, end)
    return result


def _chat_start(kwargs: dict[str, Any], provider: str) -> RunStart:
    model = str(kwargs.get("model") or "unknown")
    params = {target: kwargs[key] for key, target in _PARAMS.items() if kwargs.get(key) is not None}
    if isinstance(params.get("stop_sequences"), str):
        params["stop_sequences"] = [params["stop_sequences"]]
    return RunStart(kind=SpanKind.LLM, name=model, model=model, provider=provider,
                    request_params=params, inputs=kwargs.get("messages"))


def _chat_end(response: Any) -> RunEnd:
    return end_from_openai_response(response)


def _embed_start(kwargs: dict[str, Any], provider: str) -> RunStart:
    model = str(kwargs.get("model") or "unknown")
    return RunStart(kind=SpanKind.EMBEDDING, name=model, model=model, provider=provider)


def _embed_end(response: Any) -> RunEnd:
    data = field(response, "data") or []
    first = field(data[0], "embedding") if data else None
    dims = len(first) if isinstance(first, list) else None
    return RunEnd(usage=usage_from_openai(field(response, "usage")),
                  response_model=field(response, "model"), embedding_input_count=len(data),
                  embedding_dimensions=dims)


class _StreamState:
    """Assembles what a streamed completion reported, chunk by chunk, for one span."""

    def __init__(self, recorder: Recorder, run_id: uuid.UUID) -> None:
        self.recorder = recorder
        self.run_id = run_id
        self.end = RunEnd()
        self.text: list[str] = []
        self.done = False

    def on_chunk(self, chunk: Any) -> None:
        with guard("openai.stream_chunk"):
            if not self.text and self.end.response_id is None:
                self.recorder.first_chunk(self.run_id)
            self.end.response_id = self.end.response_id or field(chunk, "id")
            self.end.response_model = self.end.response_model or field(chunk, "model")
            for choice in field(chunk, "choices") or []:
                reason = field(choice, "finish_reason")
                if reason:
                    self.end.finish_reasons.append(str(reason))
                content = field(field(choice, "delta"), "content")
                if content:
                    self.text.append(content)
            usage = field(chunk, "usage")
            if usage is not None:
                self.end.usage = usage_from_openai(usage)  # the final chunk's totals, never summed

    def finish(self, error: BaseException | None = None) -> None:
        if self.done:
            return
        self.done = True
        if error is not None:
            self.recorder.error(self.run_id, error)
            return
        self.end.outputs = [{"role": "assistant", "content": "".join(self.text)}]
        self.recorder.end(self.run_id, self.end)


class _Stream:
    """Passes chunks through unchanged; ends the span when the stream ends, fails or is closed."""

    def __init__(self, inner: Any, recorder: Recorder, run_id: uuid.UUID) -> None:
        self._inner = inner
        self._iter = iter(inner)
        self._state = _StreamState(recorder, run_id)

    def __iter__(self) -> _Stream:
        return self

    def __next__(self) -> Any:
        try:
            chunk = next(self._iter)
        except StopIteration:
            self._state.finish()
            raise
        except BaseException as exc:
            self._state.finish(exc)
            raise
        self._state.on_chunk(chunk)
        return chunk

    def close(self) -> None:
        self._state.finish()
        close = getattr(self._inner, "close", None)
        if callable(close):
            close()

    def __enter__(self) -> _Stream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if not self._state.done:
            self._state.finish()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _AsyncStream:
    def __init__(self, inner: Any, recorder: Recorder, run_id: uuid.UUID) -> None:
        self._inner = inner
        self._iter = inner.__aiter__()
        self._state = _StreamState(recorder, run_id)

    def __aiter__(self) -> _AsyncStream:
        return self

    async def __anext__(self) -> Any:
        try:
            chunk = await self._iter.__anext__()
        except StopAsyncIteration:
            self._state.finish()
            raise
        except BaseException as exc:
            self._state.finish(exc)
            raise
        self._state.on_chunk(chunk)
        return chunk

    async def close(self) -> None:
        self._state.finish()
        close = getattr(self._inner, "close", None)
        if callable(close):
            result = close()
            if inspect.isawaitable(result):
                await result

    async def __aenter__(self) -> _AsyncStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __del__(self) -> None:
        if not self._state.done:
            self._state.finish()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
