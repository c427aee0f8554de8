"""The five workloads: what one "run" of an application is, built once and called many times.

Each builder imports its framework lazily and returns a zero-argument callable that performs one
complete run. ``callbacks`` are handlers a tracer needs passed explicitly (Langfuse's LangChain
handler); tracers that hook in globally ignore it. Models, retrievers and embeddings are
scripted and in-process, so the framework and the tracer are all that is measured.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

Framework = Literal["langchain", "llamaindex"]
RunOnce = Callable[[], object]

QUESTION = "Where is my parcel ORD-2024-004417 and when will it arrive?"
SYSTEM = "You are a concise customer-support assistant for a parcel service."


@dataclass(frozen=True, kw_only=True)
class Workload:
    name: str
    framework: Framework
    description: str
    build: Callable[[list[Any]], RunOnce]


def _config(callbacks: list[Any]) -> Any:
    return {"callbacks": callbacks} if callbacks else {}


def _lcel(callbacks: list[Any]) -> RunOnce:
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate

    from _fakes_langchain import ScriptedChatModel

    prompt = ChatPromptTemplate.from_messages([("system", SYSTEM), ("human", "{question}")])
    chain = prompt | ScriptedChatModel() | StrOutputParser()
    config = _config(callbacks)
    return lambda: chain.invoke({"question": QUESTION}, config=config)


def _retrieval(callbacks: list[Any]) -> RunOnce:
    from langchain_core.documents import Document
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.runnables import RunnablePassthrough

    from _fakes_langchain import FixedRetriever, ScriptedChatModel, sample_documents

    def join(docs: list[Document]) -> str:
        return "\n\n".join(d.page_content for d in docs)

    retriever = FixedRetriever(documents=sample_documents(4))
    prompt = ChatPromptTemplate.from_messages(
        [("system", SYSTEM + "\nContext:\n{context}"), ("human", "{question}")])
    chain = ({"context": retriever | join, "question": RunnablePassthrough()}
             | prompt | ScriptedChatModel() | StrOutputParser())
    config = _config(callbacks)
    return lambda: chain.invoke(QUESTION, config=config)


def _lc_agent(callbacks: list[Any]) -> RunOnce:
    from langchain.agents import create_agent

    from _fakes_langchain import ScriptedChatModel, lookup_tool

    tools = [lookup_tool(n) for n in ("track_parcel", "check_warehouse", "estimate_delivery")]
    agent = create_agent(model=ScriptedChatModel(tool_steps=3), tools=tools, system_prompt=SYSTEM)
    config = _config(callbacks)
    request: Any = {"messages": [{"role": "user", "content": QUESTION}]}
    return lambda: agent.invoke(request, config=config)


def _li_query(callbacks: list[Any]) -> RunOnce:
    from llama_index.core import Document, VectorStoreIndex
    from llama_index.core.embeddings import MockEmbedding
    from llama_index.core.llms import MockLLM

    docs = [Document(text=f"Shipping note {i}: standard delivery takes {i + 2} days; express "
                          f"orders placed before 15:00 ship the same day.",
                     metadata={"source": f"kb/shipping-{i}.md"}) for i in range(8)]
    index = VectorStoreIndex.from_documents(docs, embed_model=MockEmbedding(embed_dim=16))
    engine = index.as_query_engine(llm=MockLLM(max_tokens=24), similarity_top_k=4)
    return lambda: engine.query(QUESTION)


def _li_agent(callbacks: list[Any]) -> RunOnce:
    from llama_index.core.agent.workflow import FunctionAgent
    from llama_index.core.tools import FunctionTool

    from _fakes_langchain import lookup_tool
    from _fakes_llamaindex import ScriptedFunctionLLM

    tools = [FunctionTool.from_defaults(fn=lookup_tool(n))
             for n in ("track_parcel", "estimate_delivery")]
    agent = FunctionAgent(tools=tools, llm=ScriptedFunctionLLM(tool_steps=2),
                          system_prompt=SYSTEM, streaming=False)
    loop = asyncio.new_event_loop()

    async def once() -> object:
        return await agent.run(user_msg=QUESTION)

    return lambda: loop.run_until_complete(once())


WORKLOADS: dict[str, Workload] = {w.name: w for w in (
    Workload(name="lc-lcel", framework="langchain", build=_lcel,
             description="LCEL prompt → chat model → string parser"),
    Workload(name="lc-retrieval", framework="langchain", build=_retrieval,
             description="retriever (4 documents) → prompt → chat model → parser"),
    Workload(name="lc-agent", framework="langchain", build=_lc_agent,
             description="langchain.agents.create_agent, 3 tool steps (4 model calls)"),
    Workload(name="li-query", framework="llamaindex", build=_li_query,
             description="VectorStoreIndex query engine (MockEmbedding, MockLLM, top 4)"),
    Workload(name="li-agent", framework="llamaindex", build=_li_agent,
             description="FunctionAgent, 2 tool calls (3 model calls)"),
)}
