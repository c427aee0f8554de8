"""A LangChain RAG chain and a streamed chat, traced by obs, offline.

A retriever over an in-memory vector store (OpenAI embeddings), a prompt, ``ChatOpenAI`` and a
parser, all answered by obs's scripted OpenAI-compatible server on 127.0.0.1; then the same
model streamed, to show time to first chunk and the usage of the final message.

Run: python examples/langchain_rag.py
"""

from __future__ import annotations

from langchain_core.documents import Document
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnablePassthrough
from langchain_core.vectorstores import InMemoryVectorStore
from langchain_openai import ChatOpenAI, OpenAIEmbeddings

from obs_core.testing import ScriptedOpenAIServer, ScriptedReply, SpanCapture, capture_spans
from obs_langchain import ObsCallbackHandler

API_KEY = "sk-offline"
SHOWN = ("gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens",
         "gen_ai.usage.cache_read.input_tokens", "gen_ai.response.time_to_first_chunk",
         "obs.retrieval.document_count", "obs.retrieval.document_ids", "obs.usage.cost_usd")


def report(title: str, capture: SpanCapture) -> None:
    print(f"== {title}\n{capture.format_tree()}")
    for span in capture.spans:
        attributes = span.attributes or {}
        facts = {key: attributes[key] for key in SHOWN if key in attributes}
        if facts:
            print(f"  {span.name}: {facts}")
    print()
    capture.clear()


def main() -> None:
    with ScriptedOpenAIServer() as server, capture_spans() as capture:
        handler = ObsCallbackHandler(tracer_provider=capture.tracer_provider)
        embeddings = OpenAIEmbeddings(  # type: ignore[call-arg]
            model="text-embedding-3-small", base_url=server.base_url, api_key=API_KEY,
            check_embedding_ctx_length=False)
        store = InMemoryVectorStore(embeddings)
        store.add_documents([
            Document(id="spans", page_content="obs turns LangChain runs into OpenTelemetry spans."),
            Document(id="agents", page_content="Agent spans count steps and record limit hits."),
        ])
        llm = ChatOpenAI(model="gpt-4o-mini", base_url=server.base_url, api_key=API_KEY,
                         stream_usage=True)
        prompt = ChatPromptTemplate.from_messages(
            [("system", "Answer from this context: {context}"), ("human", "{question}")])
        chain = ({"context": store.as_retriever(search_kwargs={"k": 2}),
                  "question": RunnablePassthrough()} | prompt | llm | StrOutputParser())

        server.enqueue(ScriptedReply.text("They count steps and record limit hits."))
        answer = chain.invoke("What do agent spans record?",
                              config={"callbacks": [handler], "metadata": {"user_id": "u-1"}})
        print(f"answer: {answer}")
        report("RAG chain", capture)

        server.enqueue(ScriptedReply.text("Streaming, one token at a time.", prompt_tokens=40,
                                          cached_tokens=32, chunk_delay=0.01))
        text = "".join(str(chunk.content)
                       for chunk in llm.stream("Stream please", config={"callbacks": [handler]}))
        print(f"streamed: {text}")
        report("streamed chat", capture)


if __name__ == "__main__":
    main()
