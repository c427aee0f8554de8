"""Fixtures of the LlamaIndex integration tests: the real OpenAI LLM and embedding clients of
LlamaIndex against the scripted OpenAI-compatible server, spans captured in memory, and obs
instrumented on LlamaIndex's root dispatcher for the duration of one test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from llama_index.embeddings.openai import OpenAIEmbedding
from llama_index.llms.openai import OpenAI

import obs_llamaindex
from obs_core.testing import ScriptedOpenAIServer, SpanCapture, capture_spans


@pytest.fixture
def server() -> Iterator[ScriptedOpenAIServer]:
    with ScriptedOpenAIServer() as scripted:
        yield scripted


@pytest.fixture
def capture() -> Iterator[SpanCapture]:
    with capture_spans() as spans:
        yield spans


@pytest.fixture
def instrumented(capture: SpanCapture) -> Iterator[obs_llamaindex.Instrumentation]:
    handle = obs_llamaindex.instrument(tracer_provider=capture.tracer_provider,
                                       meter_provider=capture.meter_provider)
    yield handle
    handle.uninstrument()


@pytest.fixture
async def http_clients() -> AsyncIterator[tuple[httpx.Client, httpx.AsyncClient]]:
    """HTTP clients the test closes itself, so no connection outlives it (warnings are errors)."""
    async with httpx.AsyncClient() as async_client:
        with httpx.Client() as client:
            yield client, async_client


@pytest.fixture
def llm(server: ScriptedOpenAIServer,
        http_clients: tuple[httpx.Client, httpx.AsyncClient]) -> OpenAI:
    """Streams ask for usage (``include_usage``), as they must for streamed token counts."""
    return OpenAI(model="gpt-4o-mini", api_key="sk-test", api_base=server.base_url,
                  max_retries=0, additional_kwargs={"stream_options": {"include_usage": True}},
                  http_client=http_clients[0], async_http_client=http_clients[1])


@pytest.fixture
def embed_model(server: ScriptedOpenAIServer,
                http_clients: tuple[httpx.Client, httpx.AsyncClient]) -> OpenAIEmbedding:
    return OpenAIEmbedding(model="text-embedding-3-small", api_key="sk-test",
                           api_base=server.base_url, max_retries=0,
                           http_client=http_clients[0], async_http_client=http_clients[1])
