"""Payload capture through the LlamaIndex integration: a real agent, tool, query engine, vector
index and reranker, the real ``llama-index-llms-openai`` client against the scripted server, and
the payload log in SQLite and in the machine's PostgreSQL.

The application: a ``FunctionAgent`` whose tool asks a query engine that retrieves three chunks,
reranks them with ``LLMRerank`` (top 2) and synthesises an answer. One trace holds model, tool,
retrieval, embedding and rerank spans; each must have exactly one payload record keyed by it.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.postprocessor import (
    LLMRerank,
    SimilarityPostprocessor,
    StructuredLLMRerank,
)
from llama_index.core.tools import FunctionTool
from llama_index.embeddings.openai import OpenAIEmbedding
from llama_index.llms.openai import OpenAI
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode
from pydantic import ValidationError

import obs_llamaindex
from _payload_rig import (
    OTHER_SECRET,
    PayloadRig,
    StoreKind,
    assert_keyed_hashes,
    assert_one_record_per_span,
    assert_server_token_counts,
    payload_rig,
    span_key,
    spans_of_kinds,
)
from core.payloads.payload_factories import PLANTED, PLANTED_CARD, PLANTED_EMAIL, PLANTED_KEY
from llamaindex._support import attrs, of_kind
from obs_core import semconv as sc
from obs_core.payloads import PayloadRecord
from obs_core.testing import ScriptedOpenAIServer, ScriptedReply, SpanCapture

# LlamaIndex finds an agent's workflow steps with ``inspect.getmembers``, which touches pydantic's
# deprecated attributes (``__fields__``...) of the agent model.
pytestmark = pytest.mark.filterwarnings(
    "ignore::pydantic.warnings.PydanticDeprecationWarning:inspect")

STORES = [pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)]
CAPTURED = ("llm", "tool", "retriever", "reranker", "embedding")
QUESTION = "How long do refunds take?"
SYNTHESIS = "Refunds are paid within 14 days."
FINAL = "Your refund arrives within 14 days."
DOCS = [
    Document(text="Refunds are paid within 14 days of the return.", id_="doc-refunds"),
    Document(text="Shipping to France takes 3 days.", id_="doc-shipping"),
    Document(text="Gift cards never expire.", id_="doc-giftcards"),
]


@pytest.fixture
def index(embed_model: OpenAIEmbedding) -> VectorStoreIndex:
    """Built before obs is instrumented: indexing is not part of the traces under test."""
    return VectorStoreIndex.from_documents(DOCS, embed_model=embed_model)


@contextlib.contextmanager
def instrumented_rig(kind: StoreKind, tmp_path: Path, capture: SpanCapture,
                     **options: Any) -> Iterator[PayloadRig]:
    """obs configured (payload store ``kind``), then LlamaIndex instrumented, as an app does."""
    with payload_rig(kind, tmp_path, capture, **options) as rig:
        handle = obs_llamaindex.instrument(tracer_provider=capture.tracer_provider,
                                           meter_provider=capture.meter_provider)
        try:
            yield rig
        finally:
            handle.uninstrument()


def _support_agent(index: VectorStoreIndex, llm: OpenAI) -> FunctionAgent:
    engine = index.as_query_engine(llm=llm, similarity_top_k=3,
                                   node_postprocessors=[LLMRerank(llm=llm, top_n=2)])

    def search_policies(question: str) -> str:
        """Answer a question from the shop's policy handbook."""
        return str(engine.query(question))

    return FunctionAgent(name="support", tools=[FunctionTool.from_defaults(search_policies)],
                         llm=llm, streaming=False)


async def _run_support_agent(index: VectorStoreIndex, llm: OpenAI,
                             server: ScriptedOpenAIServer, question: str = QUESTION,
                             **session: str) -> str:
    """One trace: agent model call, tool, query embedding, retrieval, rerank (with its own model
    call), synthesis model call, final agent model call."""
    server.enqueue(
        ScriptedReply.tool_call("search_policies", {"question": question}, call_id="call_1"),
        ScriptedReply.text("Doc: 1, Relevance: 9\nDoc: 2, Relevance: 2"),
        ScriptedReply.text(SYNTHESIS),
        ScriptedReply.text(FINAL),
    )
    agent = _support_agent(index, llm)
    context = obs_llamaindex.session(**session) if session else contextlib.nullcontext()
    with context:
        return str(await agent.run(user_msg=question))


def _record_of(rig: PayloadRig, span: ReadableSpan) -> PayloadRecord:
    return rig.by_span()[span_key(span)]


# ------------------------------------------------------------------------------ keys and content
@pytest.mark.parametrize("kind", STORES)
async def test_every_model_tool_retrieval_rerank_and_embedding_span_has_one_record_keyed_by_it(
        kind: StoreKind, tmp_path: Path, capture: SpanCapture, server: ScriptedOpenAIServer,
        llm: OpenAI, index: VectorStoreIndex) -> None:
    with instrumented_rig(kind, tmp_path, capture) as rig:
        assert await _run_support_agent(index, llm, server) == FINAL
        records = rig.by_span()

    spans = spans_of_kinds(capture, CAPTURED)
    assert sorted(attrs(s)[sc.OBS_SPAN_KIND] for s in spans) == [
        "embedding", "llm", "llm", "llm", "llm", "reranker", "retriever", "tool"]
    assert_one_record_per_span(records, spans, capture)


@pytest.mark.parametrize("kind", STORES)
async def test_model_records_keep_messages_model_and_the_token_counts_of_their_span(
        kind: StoreKind, tmp_path: Path, capture: SpanCapture, server: ScriptedOpenAIServer,
        llm: OpenAI, index: VectorStoreIndex) -> None:
    with instrumented_rig(kind, tmp_path, capture) as rig:
        await _run_support_agent(index, llm, server)
        models = [_record_of(rig, s) for s in of_kind(capture, "llm")]

    assert_server_token_counts(models, of_kind(capture, "llm"), server)
    first, rerank, synthesis, final = models
    assert first.input[-1] == {"role": "user", "content": QUESTION}
    assert first.output[0]["tool_calls"][0]["name"] == "search_policies"
    assert "Relevance" in json.dumps(rerank.input)  # the reranker's judging prompt
    assert synthesis.output[0]["content"] == SYNTHESIS
    assert final.output[0]["content"] == FINAL


@pytest.mark.parametrize("kind", STORES)
async def test_the_tool_record_keeps_its_arguments_and_result(
        kind: StoreKind, tmp_path: Path, capture: SpanCapture, server: ScriptedOpenAIServer,
        llm: OpenAI, index: VectorStoreIndex) -> None:
    with instrumented_rig(kind, tmp_path, capture) as rig:
        await _run_support_agent(index, llm, server)
        [tool] = [_record_of(rig, s) for s in of_kind(capture, "tool")]

    assert (tool.name, tool.input) == ("search_policies", {"question": QUESTION})
    assert tool.output == SYNTHESIS


@pytest.mark.parametrize("kind", STORES)
async def test_retrieval_and_rerank_records_keep_the_query_and_the_documents_of_their_spans(
        kind: StoreKind, tmp_path: Path, capture: SpanCapture, server: ScriptedOpenAIServer,
        llm: OpenAI, index: VectorStoreIndex) -> None:
    with instrumented_rig(kind, tmp_path, capture) as rig:
        await _run_support_agent(index, llm, server)
        [retrieval_span] = of_kind(capture, "retriever")
        [rerank_span] = of_kind(capture, "reranker")
        retrieval, rerank = _record_of(rig, retrieval_span), _record_of(rig, rerank_span)

    texts = {d.text for d in DOCS}
    for record, span in ((retrieval, retrieval_span), (rerank, rerank_span)):
        assert record.input == QUESTION
        assert record.output is None  # the documents are the output
        assert tuple(d.id for d in record.documents) == attrs(span)[sc.OBS_RETRIEVAL_DOCUMENT_IDS]
        assert tuple(d.score for d in record.documents) == attrs(span)[sc.OBS_RETRIEVAL_SCORES]
        assert {d.content for d in record.documents} <= texts
    assert len(retrieval.documents) == 3
    assert [d.score for d in rerank.documents] == [9.0, 2.0]
    assert [d.id for d in rerank.documents] == [d.id for d in retrieval.documents[:2]]
    assert (rerank.name, rerank.model) == ("LLMRerank", "gpt-4o-mini")


# ------------------------------------------------------------------------------ tags and hashes
@pytest.mark.parametrize("kind", STORES)
async def test_session_tags_every_record_of_its_run_and_configure_defaults_tag_the_others(
        kind: StoreKind, tmp_path: Path, capture: SpanCapture, server: ScriptedOpenAIServer,
        llm: OpenAI, index: VectorStoreIndex) -> None:
    with instrumented_rig(kind, tmp_path, capture, pipeline_version="rag-v1",
                          user_cohort="control") as rig:
        await _run_support_agent(index, llm, server, conversation_id="sess-42",
                           user_cohort="beta", pipeline_version="rag-v2")
        await _run_support_agent(index, llm, server)
        records = rig.records()
        tags = rig.tags_by_trace()
        in_session = rig.reader.search(session_id="sess-42")

    assert tags == sorted([{("sess-42", "beta", "rag-v2")}, {(None, "control", "rag-v1")}],
                          key=str)
    assert {r.span_id for r in in_session} == {
        r.span_id for r in records if r.session_id == "sess-42"}


async def test_identical_prompts_share_a_keyed_hash_that_another_secret_changes(
        tmp_path: Path, capture: SpanCapture, server: ScriptedOpenAIServer, llm: OpenAI,
        index: VectorStoreIndex) -> None:
    async def hashes(**options: Any) -> list[str | None]:
        """The prompt hash of each run's first model call (the agent reading the question)."""
        with instrumented_rig("sqlite", tmp_path, capture, **options) as rig:
            await _run_support_agent(index, llm, server)
            await _run_support_agent(index, llm, server)
            await _run_support_agent(index, llm, server, question="Do gift cards expire?")
            return rig.first_prompt_hashes()

    same, repeated, other = await hashes()
    [again, _, _] = await hashes(secret=OTHER_SECRET)

    assert_keyed_hashes(same, repeated, other, with_other_secret=again)


# ------------------------------------------------------------------------------ capture modes
@pytest.mark.parametrize("kind", STORES)
async def test_redacted_capture_stores_none_of_the_planted_personal_data(
        kind: StoreKind, tmp_path: Path, capture: SpanCapture, server: ScriptedOpenAIServer,
        llm: OpenAI, index: VectorStoreIndex) -> None:
    question = (f"I am {PLANTED_EMAIL}, I paid with {PLANTED_CARD} and my key is {PLANTED_KEY}."
                " How long do refunds take?")
    with instrumented_rig(kind, tmp_path, capture, mode="redacted") as rig:
        await _run_support_agent(index, llm, server, question=question)
        stored = rig.stored_bytes()
        records = rig.records()

    assert {r.kind for r in records} == set(CAPTURED)
    assert all(value not in stored for value in PLANTED)
    tool = next(r for r in records if r.kind == "tool")
    assert tool.input == {"question": "I am <EMAIL_1>, I paid with <CARD_1> and my key is "
                                      "<SECRET_1>. How long do refunds take?"}
    assert {r.capture for r in records} == {"redacted"}


async def test_full_capture_stores_the_raw_text(
        tmp_path: Path, capture: SpanCapture, server: ScriptedOpenAIServer, llm: OpenAI,
        index: VectorStoreIndex) -> None:
    question = f"I am {PLANTED_EMAIL}. How long do refunds take?"
    with instrumented_rig("sqlite", tmp_path, capture, mode="full") as rig:
        await _run_support_agent(index, llm, server, question=question)
        records = rig.records()

    tool = next(r for r in records if r.kind == "tool")
    retrieval = next(r for r in records if r.kind == "retriever")
    assert tool.input == {"question": question}
    assert retrieval.input == question
    assert {r.capture for r in records} == {"full"}


@pytest.mark.parametrize("kind", STORES)
async def test_no_capture_stores_nothing_while_the_spans_are_still_recorded(
        kind: StoreKind, tmp_path: Path, capture: SpanCapture, server: ScriptedOpenAIServer,
        llm: OpenAI, index: VectorStoreIndex) -> None:
    with instrumented_rig(kind, tmp_path, capture, mode="none") as rig:
        await _run_support_agent(index, llm, server)
        records = rig.records()

    assert records == []
    assert len(spans_of_kinds(capture, CAPTURED)) == 8


# ------------------------------------------------------------------------------ reranker spans
def _query_with(capture: SpanCapture, index: VectorStoreIndex, llm: OpenAI,
                postprocessor: Any) -> str:
    engine = index.as_query_engine(llm=llm, similarity_top_k=3, node_postprocessors=[postprocessor])
    capture.clear()  # instrumentation may have seen the index being built
    return str(engine.query(QUESTION))


def _structured_ranking() -> ScriptedReply:
    return ScriptedReply.text(json.dumps({"documents": [
        {"document_number": 2, "relevance": 8}, {"document_number": 1, "relevance": 5}]}))


def test_a_reranker_in_a_query_engine_is_a_rerank_span_between_retrieval_and_synthesis(
        instrumented: obs_llamaindex.Instrumentation, capture: SpanCapture,
        server: ScriptedOpenAIServer, llm: OpenAI, index: VectorStoreIndex) -> None:
    server.enqueue(ScriptedReply.text("Doc: 3, Relevance: 7\nDoc: 1, Relevance: 4"),
                   ScriptedReply.text(SYNTHESIS))

    assert _query_with(capture, index, llm, LLMRerank(llm=llm, top_n=2)) == SYNTHESIS

    assert capture.tree() == [
        (0, "RetrieverQueryEngine.query"),
        (1, "retrieval SimpleVectorStore"),
        (2, "embeddings text-embedding-3-small"),
        (1, "rerank gpt-4o-mini"),
        (2, "chat gpt-4o-mini"),
        (1, "CompactAndRefine.synthesize"),
        (2, "chat gpt-4o-mini"),
    ]
    retrieved = attrs(capture.one("retrieval SimpleVectorStore"))[sc.OBS_RETRIEVAL_DOCUMENT_IDS]
    rerank = attrs(capture.one("rerank gpt-4o-mini"))
    assert rerank[sc.OBS_SPAN_KIND] == "reranker"
    assert rerank[sc.GEN_AI_OPERATION_NAME] == sc.OP_RERANK
    assert rerank[sc.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"
    assert (rerank[sc.OBS_RERANKER_TOP_N], rerank[sc.OBS_RERANKER_INPUT_COUNT]) == (2, 3)
    assert rerank[sc.OBS_RETRIEVAL_DOCUMENT_IDS] == (retrieved[2], retrieved[0])
    assert rerank[sc.OBS_RETRIEVAL_SCORES] == (7.0, 4.0)
    assert instrumented.recorder.open_run_count == 0


def test_a_reranker_announcing_itself_by_event_gets_one_rerank_span(
        instrumented: obs_llamaindex.Instrumentation, capture: SpanCapture,
        server: ScriptedOpenAIServer, llm: OpenAI, index: VectorStoreIndex) -> None:
    server.enqueue(_structured_ranking(), ScriptedReply.text(SYNTHESIS))

    _query_with(capture, index, llm, StructuredLLMRerank(llm=llm, top_n=2))

    [span] = of_kind(capture, "reranker")
    assert span.name == "rerank gpt-4o-mini"
    assert [s.name for s in capture.children(span)] == ["chat gpt-4o-mini"]
    assert attrs(span)[sc.OBS_RETRIEVAL_SCORES] == (8.0, 5.0)
    assert attrs(span)[sc.OBS_RERANKER_TOP_N] == 2


async def test_an_async_reranker_without_a_span_of_its_own_is_recorded_from_its_events(
        instrumented: obs_llamaindex.Instrumentation, capture: SpanCapture,
        server: ScriptedOpenAIServer, llm: OpenAI, index: VectorStoreIndex) -> None:
    """LlamaIndex wraps no span around ``StructuredLLMRerank._apostprocess_nodes``; its rerank
    start and end events delimit the run instead (its model call stays a sibling)."""
    server.enqueue(_structured_ranking(), ScriptedReply.text(SYNTHESIS))
    engine = index.as_query_engine(llm=llm, similarity_top_k=3,
                                   node_postprocessors=[StructuredLLMRerank(llm=llm, top_n=2)])
    capture.clear()

    assert str(await engine.aquery(QUESTION)) == SYNTHESIS

    [span] = of_kind(capture, "reranker")
    assert capture.parent(span) == capture.one("RetrieverQueryEngine.aquery")
    a = attrs(span)
    assert (span.name, a[sc.GEN_AI_OPERATION_NAME]) == ("rerank gpt-4o-mini", sc.OP_RERANK)
    assert (a[sc.OBS_RERANKER_TOP_N], a[sc.OBS_RERANKER_INPUT_COUNT]) == (2, 3)
    assert a[sc.OBS_RETRIEVAL_SCORES] == (8.0, 5.0)
    assert instrumented.recorder.open_run_count == 0


async def test_an_async_reranker_that_raises_between_its_events_ends_as_an_error(
        instrumented: obs_llamaindex.Instrumentation, capture: SpanCapture,
        server: ScriptedOpenAIServer, llm: OpenAI, index: VectorStoreIndex) -> None:
    server.enqueue(ScriptedReply.text("not a ranking"))
    engine = index.as_query_engine(llm=llm, similarity_top_k=3,
                                   node_postprocessors=[StructuredLLMRerank(llm=llm, top_n=2)])
    capture.clear()

    with pytest.raises(ValidationError):
        await engine.aquery(QUESTION)

    [span] = of_kind(capture, "reranker")
    assert span.status.status_code is StatusCode.ERROR
    assert attrs(span)[sc.ERROR_TYPE] == "pydantic_core._pydantic_core.ValidationError"
    assert instrumented.recorder.open_run_count == 0


def test_a_filtering_postprocessor_is_a_rerank_span_holding_the_nodes_it_kept(
        instrumented: obs_llamaindex.Instrumentation, capture: SpanCapture,
        server: ScriptedOpenAIServer, llm: OpenAI, index: VectorStoreIndex) -> None:
    server.enqueue(ScriptedReply.text(SYNTHESIS))
    _query_with(capture, index, llm, SimilarityPostprocessor(similarity_cutoff=0.1))

    retrieval = attrs(capture.one("retrieval SimpleVectorStore"))
    rerank = attrs(capture.one("rerank SimilarityPostprocessor"))
    scores = retrieval[sc.OBS_RETRIEVAL_SCORES]
    kept = [i for i, score in enumerate(scores) if score >= 0.1]
    assert len(kept) == 1  # the refunds chunk; the other two score zero
    assert rerank[sc.OBS_RERANKER_INPUT_COUNT] == 3
    assert rerank[sc.OBS_RETRIEVAL_SCORES] == (scores[kept[0]],)
    assert rerank[sc.OBS_RETRIEVAL_DOCUMENT_IDS] == (
        retrieval[sc.OBS_RETRIEVAL_DOCUMENT_IDS][kept[0]],)
