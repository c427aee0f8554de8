"""The obs demo: three small LLM applications, traced, then read back from the local store.

Runs offline: a scripted OpenAI-compatible server on 127.0.0.1 answers the real OpenAI clients
that LangChain, LlamaIndex and the plain ``openai`` SDK use. Traces go to the embedded SQLite
store (``~/.local/share/obs/traces.db`` unless ``OBS_DATA_DIR`` / ``OBS_TRACE_STORE`` say
otherwise), exactly as in an application that calls nothing but ``configure()``.
"""

from __future__ import annotations

import json
import time
from typing import Any

import obs_core
from obs_core.cli import main as obs_cli
from obs_core.store import SQLiteTraceStore, TraceFilter
from obs_core.testing import ScriptedOpenAIServer, ScriptedReply

API_KEY = "sk-demo-not-a-real-key"


def framework_free_agent(server: ScriptedOpenAIServer) -> None:
    """A hand-written tool loop over the plain ``openai`` client."""
    import openai

    server.enqueue(ScriptedReply.tool_call("get_weather", {"city": "Lisbon"}),
                   ScriptedReply.text("It is 23°C and sunny in Lisbon."))
    client = obs_core.instrument_openai(openai.OpenAI(base_url=server.base_url, api_key=API_KEY))
    messages: list[Any] = [{"role": "user", "content": "What's the weather in Lisbon?"}]
    with obs_core.agent_run("weather-assistant", max_iterations=4) as agent:
        for _ in range(4):
            reply = client.chat.completions.create(model="gpt-4o-mini", messages=messages)
            message = reply.choices[0].message
            if not message.tool_calls:
                agent.finish(stop_reason="final_answer")
                break
            messages.append(message.model_dump(exclude_none=True))
            for call in message.tool_calls:
                with obs_core.tool_call("get_weather", arguments=call.function.arguments,
                                        call_id=call.id) as tool:
                    result = {"city": "Lisbon", "temp_c": 23}
                    tool.set_result(result)
                messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)})
    client.close()


def langchain_apps(server: ScriptedOpenAIServer) -> None:
    """A RAG chain and a tool-calling agent, traced by one callback handler."""
    from langchain.agents import create_agent
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.runnables import RunnablePassthrough
    from langchain_core.tools import tool
    from langchain_core.vectorstores import InMemoryVectorStore
    from langchain_openai import ChatOpenAI, OpenAIEmbeddings

    from obs_langchain import ObsCallbackHandler

    handler = ObsCallbackHandler()
    embeddings = OpenAIEmbeddings(model="text-embedding-3-small", base_url=server.base_url,
                                  api_key=API_KEY, check_embedding_ctx_length=False)  # type: ignore[call-arg]
    store = InMemoryVectorStore.from_texts(
        ["obs turns every LangChain run into OpenTelemetry spans.",
         "Agent spans record step counts and whether the iteration limit was hit.",
         "Payloads are scrubbed of personal data before they are stored."],
        embeddings)
    llm = ChatOpenAI(model="gpt-4o-mini", base_url=server.base_url, api_key=API_KEY)
    prompt = ChatPromptTemplate.from_template("Answer from the context.\n{context}\nQ: {question}")
    rag = ({"context": store.as_retriever(search_kwargs={"k": 2}), "question": RunnablePassthrough()}
           | prompt | llm | StrOutputParser())
    server.enqueue(ScriptedReply.text("Agent spans record step counts and limit hits."))
    rag.invoke("What do agent spans record?", config={"callbacks": [handler],
                                                      "metadata": {"pipeline_version": "rag-v1"}})

    @tool
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    server.enqueue(ScriptedReply.tool_call("add", {"a": 2, "b": 3}),
                   ScriptedReply.text("2 + 3 = 5."))
    agent = create_agent(llm, tools=[add], name="calculator")
    agent.invoke({"messages": [("user", "What is 2 + 3?")]}, config={"callbacks": [handler]})


def llamaindex_apps(server: ScriptedOpenAIServer) -> None:
    """A vector-index query engine, traced through the instrumentation dispatcher."""
    from llama_index.core import Document, Settings, VectorStoreIndex
    from llama_index.embeddings.openai import OpenAIEmbedding
    from llama_index.llms.openai import OpenAI

    import obs_llamaindex

    handle = obs_llamaindex.instrument()
    Settings.llm = OpenAI(model="gpt-4o-mini", api_base=server.base_url, api_key=API_KEY)
    Settings.embed_model = OpenAIEmbedding(model="text-embedding-3-small", api_base=server.base_url,
                                           api_key=API_KEY)
    index = VectorStoreIndex.from_documents([
        Document(text="LlamaIndex query engines become chain spans with retrieval children."),
        Document(text="Retrieval spans carry node ids and similarity scores."),
    ])
    server.enqueue(ScriptedReply.text("They carry node ids and similarity scores."))
    index.as_query_engine(similarity_top_k=2).query("What do retrieval spans carry?")
    handle.uninstrument()


def main() -> None:
    runtime = obs_core.configure(service_name="obs-demo")
    started_ns = time.time_ns()
    with ScriptedOpenAIServer() as server:
        framework_free_agent(server)
        langchain_apps(server)
        llamaindex_apps(server)
    obs_core.flush()
    assert runtime.trace_store_path is not None
    print(f"\nTraces of this run, from {runtime.trace_store_path}:\n")
    obs_cli(["traces", "--db", str(runtime.trace_store_path), "--limit", "10"])
    store = SQLiteTraceStore(runtime.trace_store_path)
    for summary in reversed(store.list_traces(TraceFilter(since_ns=started_ns, limit=10))):
        print()
        obs_cli(["show", summary.trace_id, "--db", str(runtime.trace_store_path)])
    store.close()
    obs_core.shutdown()


if __name__ == "__main__":
    main()
