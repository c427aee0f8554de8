"""A local stand-in for the OpenAI HTTP API that answers from a script.

Integration tests drive the real ``openai`` client and the framework clients built on it, so
everything between the application and the wire is exercised; only the model is replaced. The
server speaks the wire format of ``/v1/chat/completions`` (plain and streamed), the legacy
``/v1/completions`` and ``/v1/embeddings``, and records what it received and what usage it
reported so tests can compare spans with the truth.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any

from obs_core.testing import _payloads as payloads
from obs_core.testing._http import Exchange, Server, serve
from obs_core.testing._replies import (
    GENERATION_ENDPOINTS,
    Endpoint,
    ScriptedError,
    ScriptedReply,
)
from obs_core.testing._script import (
    RecordedRequest,
    ReportedUsage,
    Responder,
    Script,
    echo_reply,
)
from obs_core.testing._tokens import count_tokens

logger = logging.getLogger("obs.testing")

_ROUTES: dict[str, Endpoint] = {
    "/v1/chat/completions": "chat",
    "/v1/completions": "completions",
    "/v1/embeddings": "embeddings",
}


def _bad_request(message: str, param: str | None = None) -> ScriptedError:
    return ScriptedError(status=400, message=message, param=param)


class ScriptedOpenAIServer:
    """An OpenAI-compatible HTTP server on ``127.0.0.1`` and an ephemeral port.

    Use it as a context manager (or call :meth:`start` / :meth:`stop`) and point a client at
    :attr:`base_url`. Replies come from matching rules (:meth:`add_rule`), then the queue
    (:meth:`enqueue`), then ``responder`` (by default :func:`echo_reply`). Every method is
    thread-safe; requests are served concurrently.
    """

    def __init__(
        self,
        *,
        responder: Responder | None = None,
        embedding_dimensions: int = 64,
        system_fingerprint: str = "fp_obs_scripted",
        host: str = "127.0.0.1",
    ) -> None:
        if embedding_dimensions < 1:
            raise ValueError("embedding_dimensions must be at least 1")
        self._script = Script(responder or echo_reply)
        self._embedding_dimensions = embedding_dimensions
        self._system_fingerprint = system_fingerprint
        self._host = host
        self._lock = threading.Condition()
        self._requests: list[RecordedRequest] = []
        self._usage: list[ReportedUsage] = []
        self._stopping = threading.Event()
        self._httpd: Server | None = None
        self._thread: threading.Thread | None = None
        self._started = False

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> ScriptedOpenAIServer:
        """Bind the port and start serving; returns ``self`` for chaining."""
        with self._lock:
            if self._started:
                raise RuntimeError("ScriptedOpenAIServer can only be started once")
            self._started = True
            self._httpd, self._thread = serve(self._handle, host=self._host)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving; hanging and delayed replies are released by closing their connections.

        Idempotent, and never waits longer than ``timeout`` for the serving thread.
        """
        with self._lock:
            httpd, thread = self._httpd, self._thread
            if httpd is None or self._stopping.is_set():
                return
            self._stopping.set()
        httpd.shutdown()
        httpd.close_all_connections()
        httpd.server_close()
        if thread is not None:
            thread.join(timeout)

    def __enter__(self) -> ScriptedOpenAIServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the server is not started")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """What to pass as ``base_url`` / ``api_base`` to OpenAI clients."""
        return f"http://{self._host}:{self.port}/v1"

    # -- scripting -------------------------------------------------------------------------

    def enqueue(
        self,
        *replies: ScriptedReply,
        endpoints: Iterable[Endpoint] = GENERATION_ENDPOINTS,
    ) -> None:
        """Queue replies, served in order to requests on ``endpoints`` that no rule matched."""
        self._script.enqueue(replies, frozenset(endpoints))

    def add_rule(
        self,
        reply: ScriptedReply | Responder,
        *,
        contains: str | None = None,
        matches: Callable[[RecordedRequest], bool] | None = None,
        endpoints: Iterable[Endpoint] = GENERATION_ENDPOINTS,
        times: int | None = None,
    ) -> None:
        """Answer requests whose :attr:`RecordedRequest.last_text` contains ``contains`` (and/or
        for which ``matches`` is true) with ``reply``, at most ``times`` times (``None``:
        always). Rules are tried in the order they were added, before the queue."""
        self._script.add_rule(
            reply,
            contains=contains,
            matches=matches,
            endpoints=frozenset(endpoints),
            times=times,
        )

    @property
    def responder(self) -> Responder:
        """The fallback for generation requests that no rule or queued reply answers."""
        return self._script.responder

    @responder.setter
    def responder(self, responder: Responder) -> None:
        self._script.responder = responder

    @property
    def pending_replies(self) -> int:
        """Queued replies not served yet (a test can assert its script was used up)."""
        return self._script.pending

    def reset(self) -> None:
        """Forget rules, queued replies, recorded requests and the usage log."""
        self._script.reset()
        with self._lock:
            self._requests.clear()
            self._usage.clear()

    # -- what happened ---------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in arrival order (a copy)."""
        with self._lock:
            return list(self._requests)

    @property
    def usage_log(self) -> list[ReportedUsage]:
        """The usage of every response that carried one, as sent (a copy).

        Entries are added just before the usage is written, so once a client holds a response
        its usage is here. Streams carry usage only with ``stream_options.include_usage``, in
        their last chunk: a stream scripted to fail or drop earlier reports none.
        """
        with self._lock:
            return list(self._usage)

    def wait_for_requests(self, count: int, *, timeout: float = 5.0) -> list[RecordedRequest]:
        """Block until ``count`` requests have arrived; raises ``TimeoutError`` otherwise."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self._requests) >= count, timeout):
                raise TimeoutError(f"{len(self._requests)} of {count} requests arrived")
            return list(self._requests)

    # -- serving ---------------------------------------------------------------------------

    def _record(self, exchange: Exchange, endpoint: Endpoint | None) -> RecordedRequest | None:
        """Record the request; ``None`` when its body is not a JSON object."""
        try:
            parsed = json.loads(exchange.raw_body) if exchange.raw_body else {}
        except ValueError:
            parsed = None
        with self._lock:
            request = RecordedRequest(
                index=len(self._requests),
                method=exchange.method,
                path=exchange.path,
                endpoint=endpoint,
                body=parsed if isinstance(parsed, dict) else {},
                headers=exchange.headers,
            )
            self._requests.append(request)
            self._lock.notify_all()
        return request if isinstance(parsed, dict) else None

    def _handle(self, exchange: Exchange) -> None:
        endpoint = _ROUTES.get(exchange.path.rstrip("/"))
        request = self._record(exchange, endpoint)
        if endpoint is None or exchange.method != "POST":
            message = f"Unknown request URL: {exchange.method} {exchange.path}"
            error = ScriptedError(status=404, message=message, code="unknown_url")
            exchange.send_json(404, error.body())
            return
        if request is None:
            message = "We could not parse the JSON body of your request."
            exchange.send_json(400, _bad_request(message).body())
            return
        problem = self._validate(request)
        if problem is not None:
            exchange.send_json(problem.status, problem.body())
            return
        try:
            replies = self._resolve(request)
        except Exception as exc:
            # A broken responder or rule is a bug in the test: make it loud but keep serving.
            logger.exception("scripted server: the responder failed")
            failure = ScriptedError(status=500, message=f"responder failed: {exc!r}")
            exchange.send_json(500, failure.body())
            return
        self._answer(exchange, request, replies)

    def _validate(self, request: RecordedRequest) -> ScriptedError | None:
        body = request.body
        if not isinstance(body.get("model"), str):
            return _bad_request("You must provide a model parameter.", "model")
        if request.endpoint == "chat" and not request.messages:
            return _bad_request("'messages' must be a non-empty array.", "messages")
        if request.endpoint == "completions" and not isinstance(body.get("prompt"), str | list):
            return _bad_request("'prompt' is a required property.", "prompt")
        if request.endpoint == "embeddings" and payloads.embedding_inputs(body) is None:
            return _bad_request("'input' must be a string or an array of strings.", "input")
        return None

    def _resolve(self, request: RecordedRequest) -> list[ScriptedReply | None]:
        """One reply per prompt for legacy completions (a batch of prompts), else one."""
        prompt = request.body.get("prompt")
        if request.endpoint == "completions" and isinstance(prompt, list):
            prompts = [p for p in prompt if isinstance(p, str)] or [""]
            return [
                self._script.resolve(_with_body(request, prompt=one_prompt))
                for one_prompt in prompts
            ]
        return [self._script.resolve(request)]

    def _answer(
        self,
        exchange: Exchange,
        request: RecordedRequest,
        replies: list[ScriptedReply | None],
    ) -> None:
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

    def _log_usage(
        self, request: RecordedRequest, meta: payloads.Meta, usage: payloads.Usage | None
    ) -> None:
        """Called before the usage leaves, so a client holding a response finds it logged."""
        if request.endpoint is None or usage is None:
            return
        with self._lock:
            self._usage.append(
                ReportedUsage(
                    request_index=request.index,
                    endpoint=request.endpoint,
                    response_id=meta.response_id,
                    model=meta.model,
                    prompt_tokens=usage.prompt_tokens,
                    completion_tokens=usage.completion_tokens,
                    total_tokens=usage.total_tokens,
                    cached_tokens=usage.cached_tokens,
                    reasoning_tokens=usage.reasoning_tokens,
                )
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


def _with_body(request: RecordedRequest, **changes: Any) -> RecordedRequest:
    """A view of ``request`` with some body fields replaced (one prompt of a batch)."""
    return RecordedRequest(
        index=request.index,
        method=request.method,
        path=request.path,
        endpoint=request.endpoint,
        body={**request.body, **changes},
        headers=request.headers,
    )
