"""Fixtures for the LangChain integration: a scripted OpenAI-compatible server, real
``langchain-openai`` clients pointed at it, in-memory span capture, a handler writing there, and
``check``, the assertions every test ends with."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from langchain_openai import ChatOpenAI, OpenAIEmbeddings
from opentelemetry.sdk.trace import ReadableSpan

from obs_core import semconv as sc
from obs_core.testing import ScriptedOpenAIServer, SpanCapture
from obs_langchain import ObsCallbackHandler

MODEL = "gpt-4o-mini"


class Checks:
    """Assertions against what the scripted server really sent and what obs recorded."""

    def __init__(self, server: ScriptedOpenAIServer, capture: SpanCapture,
                 handler: ObsCallbackHandler) -> None:
        self.server, self.capture, self.handler = server, capture, handler

    def tokens_match_server(self, span: ReadableSpan) -> None:
        """The model span carries exactly the usage the server reported for that response
        (matched by response id; streamed answers carry none, so a stream must be the only
        response)."""
        a = span.attributes or {}
        log = self.server.usage_log
        if sc.GEN_AI_RESPONSE_ID in a:
            reported = {u.response_id: u for u in log}[str(a[sc.GEN_AI_RESPONSE_ID])]
        else:
            assert len(log) == 1
            reported = log[0]
        assert a[sc.GEN_AI_USAGE_INPUT_TOKENS] == reported.prompt_tokens
        assert a[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == reported.completion_tokens
        assert a[sc.OBS_USAGE_TOTAL_TOKENS] == reported.total_tokens
        assert a.get(sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, 0) == reported.cached_tokens
        assert a.get(sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, 0) == reported.reasoning_tokens
        assert a[sc.OBS_USAGE_SOURCE] == "provider"

    def all_closed(self, handler: ObsCallbackHandler | None = None) -> None:
        """No run is left open and every span obs started has ended."""
        assert (handler or self.handler).recorder.open_run_count == 0
        assert all(span.end_time is not None for span in self.capture.spans)

    def server_totals(self) -> tuple[int, int]:
        """Prompt and completion tokens over every response the server sent."""
        log = self.server.usage_log
        return sum(u.prompt_tokens for u in log), sum(u.completion_tokens for u in log)


@pytest.fixture
def server() -> Iterator[ScriptedOpenAIServer]:
    with ScriptedOpenAIServer() as scripted:
        yield scripted


@pytest.fixture
def capture() -> Iterator[SpanCapture]:
    with SpanCapture() as spans:
        yield spans


@pytest.fixture
def handler(capture: SpanCapture) -> Iterator[ObsCallbackHandler]:
    obs = ObsCallbackHandler(tracer_provider=capture.tracer_provider,
                             meter_provider=capture.meter_provider)
    yield obs
    obs.close()


@pytest.fixture
def check(server: ScriptedOpenAIServer, capture: SpanCapture,
          handler: ObsCallbackHandler) -> Checks:
    return Checks(server, capture, handler)


@pytest.fixture(scope="session")
def tls() -> ssl.SSLContext:
    """One TLS context for every HTTP client: building one per client dominates test time."""
    return ssl.create_default_context()


@pytest.fixture
def sync_http_client(tls: ssl.SSLContext) -> Iterator[httpx.Client]:
    with httpx.Client(verify=tls) as client:
        yield client


@pytest.fixture
async def async_http_client(tls: ssl.SSLContext) -> AsyncIterator[httpx.AsyncClient]:
    """Closed in the test's own event loop, where its connections live."""
    async with httpx.AsyncClient(verify=tls) as client:
        yield client


@pytest.fixture
def http_clients(sync_http_client: httpx.Client,
                 async_http_client: httpx.AsyncClient) -> dict[str, Any]:
    return {"http_client": sync_http_client, "http_async_client": async_http_client}


@pytest.fixture
def chat_model(server: ScriptedOpenAIServer,
               http_clients: dict[str, Any]) -> Callable[..., ChatOpenAI]:
    """Real ``ChatOpenAI`` clients talking to the scripted server."""

    def make(**options: Any) -> ChatOpenAI:
        return ChatOpenAI(model=MODEL, base_url=server.base_url, api_key="sk-test",
                          max_retries=0, **http_clients, **options)

    return make


@pytest.fixture
def embeddings(server: ScriptedOpenAIServer, http_clients: dict[str, Any]) -> OpenAIEmbeddings:
    return OpenAIEmbeddings(  # type: ignore[call-arg]
        model="text-embedding-3-small", base_url=server.base_url, api_key="sk-test",
        check_embedding_ctx_length=False, max_retries=0, **http_clients)
