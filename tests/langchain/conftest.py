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

from _langchain_checks import Checks
from obs_core.testing import ScriptedOpenAIServer, SpanCapture
from obs_langchain import ObsCallbackHandler

MODEL = "gpt-4o-mini"


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
