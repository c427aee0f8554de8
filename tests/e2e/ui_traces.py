"""Traces for the viewer's browser tests, produced by real applications on both integrations.

A LangChain agent and a LangGraph agent stopped by its recursion limit (``langchain-openai``),
a LlamaIndex function agent and query engine (``llama-index-llms-openai``), all answered by the
scripted OpenAI-compatible server, recorded by ``obs_core.configure()`` into an embedded trace
store and payload store, and scored by the in-process evaluation pipeline into the store's
``evaluations`` table, exactly as an application that configures evaluation would.
"""

from __future__ import annotations

import asyncio
import ssl
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from langchain.agents import create_agent
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from langgraph.errors import GraphRecursionError
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.embeddings.openai import OpenAIEmbedding
from llama_index.llms.openai import OpenAI
from opentelemetry.sdk.trace import TracerProvider

import obs_core
import obs_llamaindex
from obs_core.evals import Groundedness, Safety
from obs_core.evals.pipeline import EvaluationSettings
from obs_core.store import SQLiteTraceStore
from obs_core.testing import ScriptedOpenAIServer, ScriptedReply
from obs_langchain import ObsCallbackHandler

PLANTED_EMAIL = "jane.doe@example.com"
"""In the calculator's user prompt: stored only as a placeholder, so never shown."""
LC_SESSION = "lc-session-7"
LI_SESSION = "li-session-9"
LC_MODEL = "gpt-4o-mini"
LI_MODEL = "gpt-4o"
CALCULATOR_TOOLS = ("add", "multiply", "add")
"""The calculator's tool calls, in the order its model asked for them."""
RESEARCHER_TOOLS = ("lookup_population", "lookup_area")
UNGROUNDED_ANSWER = "The tallest volcano on Mars is Mount Everest, 9 km high."
"""The query engine's answer: nothing in the retrieved documents supports it."""
_KEY = "sk-test"


@dataclass(frozen=True)
class ProducedTraces:
    """Where the traces went and which trace is which (ids are 32 hex digits)."""

    trace_db: Path
    payload_db: Path
    calculator: str
    """LangChain ``create_agent`` agent: add, multiply, add, then an answer; session
    :data:`LC_SESSION`, pipeline ``lc-v1``, model :data:`LC_MODEL`."""
    looper: str
    """LangChain agent stopped by LangGraph's recursion limit: ERROR, limit hit; pipeline
    ``lc-v2``."""
    researcher: str
    """LlamaIndex ``FunctionAgent``: two lookups, then an answer; session :data:`LI_SESSION`,
    pipeline ``li-v1``, model :data:`LI_MODEL`."""
    rag: str
    """LlamaIndex query engine answering :data:`UNGROUNDED_ANSWER`: flagged by groundedness;
    pipeline ``li-v1``, model :data:`LI_MODEL`."""

    @property
    def all(self) -> frozenset[str]:
        return frozenset({self.calculator, self.looper, self.researcher, self.rag})


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@tool
def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


def lookup_population(city: str) -> str:
    """The population of a city."""
    return f"{city}: 2.1 million"


def lookup_area(city: str) -> str:
    """The area of a city in square kilometres."""
    return f"{city}: 105 km2"


def produce(directory: Path) -> ProducedTraces:
    """Run the four applications once; every trace and evaluation is in the stores on return."""
    trace_db, payload_db = directory / "traces.db", directory / "payloads.db"
    provider = TracerProvider()
    obs_core.configure(
        service_name="ui-e2e", tracer_provider=provider, trace_store=trace_db,
        payload_store=payload_db, set_global=False,
        evaluation=EvaluationSettings(evaluators=[Groundedness(), Safety()], backoff_s=0.01),
    )
    try:
        with ScriptedOpenAIServer() as server:
            _langchain_agents(server, provider)
            # A thread of its own: the caller may already run an event loop (Playwright's).
            with ThreadPoolExecutor(max_workers=1) as pool:
                pool.submit(asyncio.run, _llamaindex_apps(server, provider)).result()
        assert obs_core.flush(timeout_s=20), "obs did not flush in time"
    finally:
        obs_core.shutdown(timeout_s=10)
    with SQLiteTraceStore(trace_db, read_only=True) as store:
        by_root = {t.root_name: t.trace_id for t in store.list_traces()}
    return ProducedTraces(
        trace_db=trace_db, payload_db=payload_db,
        calculator=by_root["invoke_agent calculator"], looper=by_root["invoke_agent looper"],
        researcher=by_root["invoke_agent researcher"], rag=by_root["RetrieverQueryEngine.query"],
    )


def _langchain_agents(server: ScriptedOpenAIServer, provider: TracerProvider) -> None:
    handler = ObsCallbackHandler(tracer_provider=provider)
    with httpx.Client(verify=_TLS) as client:
        llm = ChatOpenAI(model=LC_MODEL, base_url=server.base_url, api_key=_KEY,
                         max_retries=0, http_client=client)
        server.enqueue(ScriptedReply.tool_call("add", {"a": 2, "b": 3}),
                       ScriptedReply.tool_call("multiply", {"a": 5, "b": 4}),
                       ScriptedReply.tool_call("add", {"a": 20, "b": 1}),
                       ScriptedReply.text("(2 + 3) * 4 + 1 = 21."))
        create_agent(llm, [add, multiply], name="calculator").invoke(
            {"messages": [("user", f"I am {PLANTED_EMAIL}. What is (2 + 3) * 4 + 1?")]},
            config={"callbacks": [handler],
                    "metadata": {"session_id": LC_SESSION, "pipeline_version": "lc-v1"}})

        server.responder = lambda request: ScriptedReply.tool_call("add", {"a": 1, "b": 1})
        try:
            create_agent(llm, [add], name="looper").invoke(
                {"messages": [("user", "Keep adding one.")]},
                config={"callbacks": [handler], "recursion_limit": 6,
                        "metadata": {"session_id": LC_SESSION, "pipeline_version": "lc-v2"}})
        except GraphRecursionError:
            pass  # what LangGraph raises at the limit; the trace records it
        else:
            raise AssertionError("the looping agent should have hit its recursion limit")
        server.reset()
    handler.close()


async def _llamaindex_apps(server: ScriptedOpenAIServer, provider: TracerProvider) -> None:
    handle = obs_llamaindex.instrument(tracer_provider=provider)
    try:
        async with httpx.AsyncClient(verify=_TLS) as async_client:
            with httpx.Client(verify=_TLS) as client:
                clients: dict[str, Any] = {"http_client": client, "async_http_client": async_client}
                llm = OpenAI(model=LI_MODEL, api_key=_KEY, api_base=server.base_url,
                             max_retries=0, **clients)
                embed = OpenAIEmbedding(model="text-embedding-3-small", api_key=_KEY,
                                        api_base=server.base_url, max_retries=0, **clients)
                with obs_llamaindex.session(conversation_id=LI_SESSION, pipeline_version="li-v1"):
                    await _researcher(server, llm)
                    _query_engine(server, llm, embed)
    finally:
        handle.uninstrument()


async def _researcher(server: ScriptedOpenAIServer, llm: OpenAI) -> None:
    server.enqueue(ScriptedReply.tool_call("lookup_population", {"city": "Paris"}),
                   ScriptedReply.tool_call("lookup_area", {"city": "Paris"}),
                   ScriptedReply.text("Paris has 2.1 million people on 105 km2."))
    agent = FunctionAgent(name="researcher", description="Looks up city facts.",
                          tools=[lookup_population, lookup_area], llm=llm, streaming=False)
    await agent.run(user_msg="How dense is Paris?")


def _query_engine(server: ScriptedOpenAIServer, llm: OpenAI, embed: OpenAIEmbedding) -> None:
    index = VectorStoreIndex.from_documents(
        [Document(text="Olympus Mons is the tallest volcano on Mars, about 22 km high."),
         Document(text="Mount Kilimanjaro is a dormant volcano in Tanzania.")],
        embed_model=embed)
    server.enqueue(ScriptedReply.text(UNGROUNDED_ANSWER))
    index.as_query_engine(llm=llm, similarity_top_k=2).query("What is the tallest volcano on Mars?")


_TLS = ssl.create_default_context()
"""One TLS context for every client: building one per client dominates the start-up time."""
