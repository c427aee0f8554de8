"""Query engines over a vector index: embedding, retrieval and synthesis spans."""

from __future__ import annotations

import asyncio

from llama_index.core import Document, VectorStoreIndex
from llama_index.core.base.response.schema import StreamingResponse
from llama_index.embeddings.openai import OpenAIEmbedding
from llama_index.llms.openai import OpenAI

import obs_llamaindex
from llamaindex._support import assert_tokens_match_server, attrs
from obs_core import semconv as sc
from obs_core.testing import ScriptedOpenAIServer, ScriptedReply, SpanCapture

DOCS = [
    Document(text="Paris is the capital of France.", id_="doc-paris"),
    Document(text="Berlin is the capital of Germany.", id_="doc-berlin"),
    Document(text="Bananas are yellow fruit.", id_="doc-banana"),
]


def _index(embed_model: OpenAIEmbedding) -> VectorStoreIndex:
    return VectorStoreIndex.from_documents(DOCS, embed_model=embed_model)


def test_vector_index_query_traces_embedding_retrieval_and_synthesis(
    instrumented: obs_llamaindex.Instrumentation, capture: SpanCapture, server: ScriptedOpenAIServer,
    llm: OpenAI, embed_model: OpenAIEmbedding,
) -> None:
    index = _index(embed_model)
    capture.clear()
    server.enqueue(ScriptedReply.text("Paris."))

    response = index.as_query_engine(llm=llm, similarity_top_k=2).query("capital of France?")

    assert str(response) == "Paris."
    assert capture.tree() == [
        (0, "RetrieverQueryEngine.query"),
        (1, "retrieval SimpleVectorStore"),
        (2, "embeddings text-embedding-3-small"),
        (1, "CompactAndRefine.synthesize"),
        (2, "chat gpt-4o-mini"),
    ]
    assert [attrs(s)[sc.OBS_SPAN_KIND] for s in sorted(capture.spans, key=lambda s: s.start_time or 0)] == [
        "chain", "retriever", "embedding", "chain", "llm"]
    retrieval = attrs(capture.one("retrieval SimpleVectorStore"))
    assert retrieval[sc.OBS_RETRIEVAL_DOCUMENT_COUNT] == 2
    scores = retrieval[sc.OBS_RETRIEVAL_SCORES]
    assert len(scores) == 2
    assert list(scores) == sorted(scores, reverse=True)
    assert all(0.0 < s <= 1.0 for s in scores)
    assert len(retrieval[sc.OBS_RETRIEVAL_DOCUMENT_IDS]) == 2
    embedding = attrs(capture.one("embeddings text-embedding-3-small"))
    assert embedding[sc.OBS_EMBEDDING_INPUT_COUNT] == 1
    assert embedding[sc.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] == 64
    chat = capture.one("chat gpt-4o-mini")
    assert attrs(chat)[sc.GEN_AI_PROVIDER_NAME] == "openai"
    assert_tokens_match_server(chat, server.usage_log)
    root = attrs(capture.one("RetrieverQueryEngine.query"))
    assert root[sc.OBS_ROOT] is True
    assert root[sc.OBS_ROLLUP_LLM_CALLS] == 1
    assert instrumented.recorder.open_run_count == 0


def test_building_an_index_traces_one_embeddings_span_per_batch(
    instrumented: obs_llamaindex.Instrumentation, capture: SpanCapture,
    embed_model: OpenAIEmbedding,
) -> None:
    _index(embed_model)

    [span] = capture.spans
    assert span.name == "embeddings text-embedding-3-small"
    assert attrs(span)[sc.OBS_EMBEDDING_INPUT_COUNT] == len(DOCS)
    assert instrumented.recorder.open_run_count == 0


def test_streamed_query_answer_ends_its_model_span_when_the_stream_is_read(
    instrumented: obs_llamaindex.Instrumentation, capture: SpanCapture, server: ScriptedOpenAIServer,
    llm: OpenAI, embed_model: OpenAIEmbedding,
) -> None:
    index = _index(embed_model)
    capture.clear()
    server.enqueue(ScriptedReply.text("Paris is the capital.", chunk_delay=0.02))
    response = index.as_query_engine(llm=llm, streaming=True).query("capital of France?")
    assert capture.by_name("chat gpt-4o-mini") == []  # LlamaIndex calls the model lazily
    assert instrumented.recorder.open_run_count == 0

    assert isinstance(response, StreamingResponse)
    text = "".join(response.response_gen)

    assert text == "Paris is the capital."
    chat = capture.one("chat gpt-4o-mini")
    a = attrs(chat)
    assert a[sc.GEN_AI_REQUEST_STREAM] is True
    assert a[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert 0 < a[sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] < (chat.end_time - chat.start_time) / 1e9  # type: ignore[operator]
    assert_tokens_match_server(chat, server.usage_log)
    assert instrumented.recorder.open_run_count == 0


async def test_twenty_concurrent_aqueries_have_isolated_traces(
    instrumented: obs_llamaindex.Instrumentation, capture: SpanCapture, server: ScriptedOpenAIServer,
    llm: OpenAI, embed_model: OpenAIEmbedding,
) -> None:
    engine = _index(embed_model).as_query_engine(llm=llm, similarity_top_k=1)
    capture.clear()
    tracer = capture.tracer_provider.get_tracer("test")

    async def ask(i: int) -> str:
        with tracer.start_as_current_span(f"request {i}"):
            return str(await engine.aquery(f"question number {i}?"))

    answers = await asyncio.gather(*(ask(i) for i in range(20)))

    assert all(f"question number {i}?" in answer for i, answer in enumerate(answers))
    requests = {r.index: r for r in server.requests}
    usage = {u.response_id: u for u in server.usage_log}
    for i in range(20):
        request_span = capture.one(f"request {i}")
        trace_id = request_span.context.trace_id
        in_trace = [s for s in capture.spans if s.context.trace_id == trace_id]
        assert sorted(s.name for s in in_trace) == sorted([
            f"request {i}", "RetrieverQueryEngine.aquery", "retrieval SimpleVectorStore",
            "embeddings text-embedding-3-small", "CompactAndRefine.asynthesize", "chat gpt-4o-mini"])
        chat = next(s for s in in_trace if s.name == "chat gpt-4o-mini")
        reported = usage[str(attrs(chat)[sc.GEN_AI_RESPONSE_ID])]
        assert f"question number {i}?" in requests[reported.request_index].last_text
        assert attrs(chat)[sc.GEN_AI_USAGE_INPUT_TOKENS] == reported.prompt_tokens
        assert capture.parent(capture.children(request_span)[0]) == request_span
    assert instrumented.recorder.open_run_count == 0
