"""How a resolved reply becomes bytes on the wire: delays, errors, documents and streams.

Separate from :mod:`obs_core.testing._server`, which decides *which* reply a request gets and
keeps the records; this module only serves it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from obs_core.testing import _payloads as payloads
from obs_core.testing._http import Exchange
from obs_core.testing._replies import ScriptedReply
from obs_core.testing._script import RecordedRequest
from obs_core.testing._tokens import count_tokens

UsageLogger = Callable[[RecordedRequest, payloads.Meta, payloads.Usage | None], None]


class Answerer:
    """Serves replies for one server; safe to share between request threads (no own state)."""

    def __init__(
        self,
        *,
        stopping: threading.Event,
        system_fingerprint: str,
        embedding_dimensions: int,
        log_usage: UsageLogger,
    ) -> None:
        self._stopping = stopping
        self._system_fingerprint = system_fingerprint
        self._embedding_dimensions = embedding_dimensions
        self._log_usage = log_usage

    def answer(
        self,
        exchange: Exchange,
        request: RecordedRequest,
        replies: list[ScriptedReply | None],
    ) -> None:
        """Serve ``replies`` (one per prompt; ``None`` = the computed default) to ``request``.

        Runs on the request's thread; waits are on the server's stop event so ``stop()``
        releases them at once.
        """
        scripted = [reply for reply in replies if reply is not None]
        if any(reply.hang for reply in scripted):
            self._stopping.wait()
            exchange.drop_connection()
            return
        delay = max((reply.delay for reply in scripted), default=0.0)
        if delay > 0 and self._stopping.wait(delay):
            exchange.drop_connection()
            return
        failing = next((reply for reply in scripted if reply.error is not None), None)
        # A mid-stream failure needs a stream; any other request gets the HTTP error.
        midstream = failing is not None and failing.error_after_chunks is not None
        if failing is not None and failing.error is not None and not (request.stream and midstream):
            exchange.send_json(failing.error.status, failing.error.body(), failing.headers)
            return
        if request.endpoint == "embeddings":
            self._answer_embeddings(exchange, request, scripted[0] if scripted else None)
        elif request.endpoint == "chat":
            self._answer_chat(exchange, request, scripted[0])
        else:
            self._answer_completions(exchange, request, scripted)

    def _meta(
        self, request: RecordedRequest, reply: ScriptedReply | None, prefix: str
    ) -> payloads.Meta:
        return payloads.Meta(
            response_id=f"{prefix}-obs{request.index:08d}",
            created=int(time.time()),
            model=(reply.model if reply is not None else None) or request.model,
            system_fingerprint=self._system_fingerprint,
            call_id_prefix=f"call_obs{request.index:08d}",
        )

    def _usage_wanted(self, request: RecordedRequest, replies: Iterable[ScriptedReply]) -> bool:
        if any(reply.omit_usage for reply in replies):
            return False
        if not request.stream:
            return True
        options = request.body.get("stream_options")
        return isinstance(options, Mapping) and options.get("include_usage") is True

    def _answer_chat(
        self, exchange: Exchange, request: RecordedRequest, reply: ScriptedReply
    ) -> None:
        meta = self._meta(request, reply, "chatcmpl")
        usage = payloads.usage_for(
            reply,
            prompt_tokens=payloads.chat_prompt_tokens(request),
            answers=payloads.choice_count(request),
        )
        reported = usage if self._usage_wanted(request, [reply]) else None
        if not request.stream:
            self._log_usage(request, meta, reported)
            document = payloads.chat_completion(meta, request, reply, reported)
            exchange.send_json(200, document, reply.headers)
            return
        documents = payloads.chat_chunks(meta, request, reply, reported)
        self._stream(exchange, documents, reply, lambda: self._log_usage(request, meta, reported))

    def _answer_completions(
        self, exchange: Exchange, request: RecordedRequest, replies: list[ScriptedReply]
    ) -> None:
        meta = self._meta(request, replies[0], "cmpl")
        prompt = request.body.get("prompt")
        prompts = (
            [prompt] if isinstance(prompt, str) else [p for p in prompt or [] if isinstance(p, str)]
        )
        answers = payloads.choice_count(request)
        usages = [
            payloads.usage_for(
                reply,
                prompt_tokens=count_tokens(prompts[i] if i < len(prompts) else ""),
                answers=answers,
            )
            for i, reply in enumerate(replies)
        ]
        usage = payloads.Usage(
            prompt_tokens=sum(u.prompt_tokens for u in usages),
            completion_tokens=sum(u.completion_tokens for u in usages),
            cached_tokens=sum(u.cached_tokens for u in usages),
            reasoning_tokens=sum(u.reasoning_tokens for u in usages),
        )
        reported = usage if self._usage_wanted(request, replies) else None
        documents = payloads.completion(
            meta, request, replies, reported, stream_pieces=request.stream
        )
        if not request.stream:
            self._log_usage(request, meta, reported)
            exchange.send_json(200, documents[0], replies[0].headers)
            return
        self._stream(
            exchange, documents, replies[0], lambda: self._log_usage(request, meta, reported)
        )

    def _answer_embeddings(
        self, exchange: Exchange, request: RecordedRequest, reply: ScriptedReply | None
    ) -> None:
        inputs = payloads.embedding_inputs(request.body) or []
        dimensions = request.body.get("dimensions")
        if not (
            isinstance(dimensions, int) and not isinstance(dimensions, bool) and dimensions > 0
        ):
            dimensions = self._embedding_dimensions
        prompt_tokens = payloads.embedding_prompt_tokens(inputs)
        if reply is not None and reply.prompt_tokens is not None:
            prompt_tokens = reply.prompt_tokens
        usage = payloads.Usage(prompt_tokens=prompt_tokens, completion_tokens=0)
        meta = self._meta(request, reply, "emb")
        document = payloads.embeddings(
            model=meta.model,
            inputs=inputs,
            dimensions=dimensions,
            base64=request.body.get("encoding_format") == "base64",
            usage=usage,
        )
        self._log_usage(request, meta, usage)
        exchange.send_json(200, document, reply.headers if reply is not None else None)

    def _stream(
        self,
        exchange: Exchange,
        documents: list[dict[str, Any]],
        reply: ScriptedReply,
        before_usage: Callable[[], None],
    ) -> None:
        """Write ``documents`` as server-sent events, calling ``before_usage`` just before the
        document that carries usage goes out."""
        exchange.start_events(reply.headers)
        fail_at = reply.error_after_chunks if reply.error is not None else None
        for sent, document in enumerate(documents):
            if sent in (fail_at, reply.abort_after_chunks):
                break
            if sent and reply.chunk_delay > 0 and self._stopping.wait(reply.chunk_delay):
                exchange.drop_connection()
                return
            if isinstance(document.get("usage"), dict):
                before_usage()
            exchange.send_event(json.dumps(document))
        # A failure scripted past the last chunk still happens, in place of the end marker.
        if reply.error is not None and fail_at is not None:
            exchange.send_event(json.dumps(reply.error.body()))
            exchange.end_events()
            return
        if reply.abort_after_chunks is not None:
            exchange.drop_connection()
            return
        exchange.send_event("[DONE]")
        exchange.end_events()
