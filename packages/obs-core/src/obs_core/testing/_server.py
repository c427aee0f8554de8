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
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

from obs_core.testing import _payloads as payloads
from obs_core.testing._answers import Answerer
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
        self._host = host
        self._lock = threading.Condition()
        self._requests: list[RecordedRequest] = []
        self._usage: list[ReportedUsage] = []
        self._stopping = threading.Event()
        self._answerer = Answerer(
            stopping=self._stopping,
            system_fingerprint=system_fingerprint,
            embedding_dimensions=embedding_dimensions,
            log_usage=self._log_usage,
        )
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
        self._answerer.answer(exchange, request, replies)

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
