"""A LlamaIndex RAG query, traced by obs, fully offline.

The real LlamaIndex OpenAI clients talk to obs's scripted OpenAI-compatible server, and spans are
captured in memory so the example can print them. In an application the setup is two lines:

    obs_core.configure()           # trace store, OTLP export... (see obs-core)
    obs_llamaindex.instrument()

Run: python examples/llamaindex_rag_query.py
"""

from __future__ import annotations

from llama_index.core import Document, VectorStoreIndex
from llama_index.embeddings.openai import OpenAIEmbedding
from llama_index.llms.openai import OpenAI

import obs_llamaindex
from obs_core.testing import ScriptedOpenAIServer, ScriptedReply, capture_spans

KEYS = ("gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens", "obs.retrieval.scores",
        "obs.embedding.input_count", "gen_ai.conversation.id", "obs.pipeline.version",
        "obs.rollup.cost_usd")


def main() -> None:
    with ScriptedOpenAIServer() as server, capture_spans() as capture:
        handle = obs_llamaindex.instrument(tracer_provider=capture.tracer_provider,
                                           pipeline_version="rag-example-1")
        llm = OpenAI(model="gpt-4o-mini", api_key="sk-offline", api_base=server.base_url)
        embed_model = OpenAIEmbedding(model="text-embedding-3-small", api_key="sk-offline",
                                      api_base=server.base_url)
        index = VectorStoreIndex.from_documents(
            [Document(text="The Eiffel Tower is 330 metres tall."),
             Document(text="The Louvre is the most visited museum in the world."),
             Document(text="Croissants are best eaten fresh.")],
            embed_model=embed_model,
        )
        capture.clear()  # keep only the query's trace

        server.enqueue(ScriptedReply.text("The Eiffel Tower is 330 metres tall."))
        with obs_llamaindex.session(conversation_id="demo-conversation", user_id="visitor-1"):
            answer = index.as_query_engine(llm=llm, similarity_top_k=2).query(
                "How tall is the Eiffel Tower?")

        print(f"answer: {answer}\n")
        print(capture.format_tree(), "\n")
        for span in sorted(capture.spans, key=lambda s: s.start_time or 0):
            facts = {k: v for k, v in (span.attributes or {}).items() if k in KEYS}
            print(f"{span.name:40} {facts}")
        handle.uninstrument()


if __name__ == "__main__":
    main()
