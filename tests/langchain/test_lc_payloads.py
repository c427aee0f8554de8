"""Payload capture through the LangChain integration: a real ``create_agent`` loop, a tool, a
vector-store retriever and LangChain rerankers, the real ``langchain-openai`` client against the
scripted server, and the payload log in SQLite and in the machine's PostgreSQL.

The application: a support agent whose ``search_policies`` tool asks a retriever over an
in-memory vector store. One trace holds model, tool and retrieval spans; each must have exactly
one payload record keyed by it.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_classic.retrievers import ContextualCompressionRetriever
from langchain_classic.retrievers.document_compressors import LLMListwiseRerank
from langchain_core.callbacks import CallbackManagerForRetrieverRun, Callbacks
from langchain_core.documents import BaseDocumentCompressor, Document
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.tools import BaseTool, tool
from langchain_core.vectorstores import InMemoryVectorStore
from langchain_openai import ChatOpenAI, OpenAIEmbeddings
from opentelemetry.sdk.trace import ReadableSpan

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
from obs_core import semconv as sc
from obs_core.payloads import PayloadRecord
from obs_core.testing import ScriptedOpenAIServer, ScriptedReply, SpanCapture
from obs_langchain import ObsCallbackHandler

STORES = [pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)]
CAPTURED = ("llm", "tool", "retriever")
QUESTION = "How long do refunds take?"
FINAL = "Your refund arrives within 14 days."
POLICIES = [
    Document(page_content="Refunds are paid within 14 days of the return.", id="refunds"),
    Document(page_content="Shipping to France takes 3 days.", id="shipping"),
    Document(page_content="Gift cards never expire.", id="giftcards"),
]
RUN_TAGS = {"session_id": "sess-42", "user_cohort": "beta", "pipeline_version": "rag-v2"}


def attrs(span: ReadableSpan) -> Mapping[str, Any]:
    return span.attributes or {}


class ScoredRetriever(BaseRetriever):
    """Vector search that reports each document's similarity as ``metadata["score"]``, the way
    many LangChain retrievers expose scores."""

    store: InMemoryVectorStore
    k: int = 3

    def _get_relevant_documents(self, query: str, *,
                                run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [Document(page_content=doc.page_content, id=doc.id, metadata={"score": score})
                for doc, score in self.store.similarity_search_with_score(query, k=self.k)]


class KeywordReranker(BaseDocumentCompressor):
    """A reranking compressor in the style of LangChain's Cohere / cross-encoder rerankers:
    re-scores by shared words, keeps ``top_n``, reports ``metadata["relevance_score"]``."""

    top_n: int = 2

    def compress_documents(self, documents: Sequence[Document], query: str,
                           callbacks: Callbacks | None = None) -> Sequence[Document]:
        words = set(query.lower().rstrip("?").split())

        def overlap(doc: Document) -> float:
            return len(words & set(doc.page_content.lower().rstrip(".").split())) / len(words)

        ranked = sorted(documents, key=overlap, reverse=True)[: self.top_n]
        return [Document(page_content=d.page_content, id=d.id,
                         metadata={**d.metadata, "relevance_score": overlap(d)}) for d in ranked]


@pytest.fixture
def vector_store(embeddings: OpenAIEmbeddings) -> InMemoryVectorStore:
    store = InMemoryVectorStore(embeddings)
    store.add_documents(POLICIES)
    return store


@contextlib.contextmanager
def traced(kind: StoreKind, tmp_path: Path, capture: SpanCapture,
           **options: Any) -> Iterator[tuple[PayloadRig, ObsCallbackHandler]]:
    """obs configured (payload store ``kind``), then a callback handler made, as an app does."""
    with payload_rig(kind, tmp_path, capture, **options) as rig:
        handler = ObsCallbackHandler(tracer_provider=capture.tracer_provider,
                                     meter_provider=capture.meter_provider)
        try:
            yield rig, handler
        finally:
            handler.close()


def _search_tool(retriever: BaseRetriever) -> BaseTool:
    @tool
    def search_policies(question: str) -> str:
        """Answer a question from the shop's policy handbook."""
        return "\n".join(d.page_content for d in retriever.invoke(question))

    return search_policies


def _run_support_agent(model: ChatOpenAI, store: InMemoryVectorStore,
                       server: ScriptedOpenAIServer, handler: ObsCallbackHandler,
                       question: str = QUESTION, metadata: Mapping[str, str] | None = None) -> str:
    """One trace: agent model call, tool, retrieval, final model call."""
    server.enqueue(
        ScriptedReply.tool_call("search_policies", {"question": question}, call_id="call_1"),
        ScriptedReply.text(FINAL),
    )
    agent = create_agent(model, [_search_tool(ScoredRetriever(store=store))], name="support")
    result = agent.invoke({"messages": [("user", question)]},
                          config={"callbacks": [handler], "metadata": dict(metadata or {})})
    return str(result["messages"][-1].content)


def _record_of(rig: PayloadRig, span: ReadableSpan) -> PayloadRecord:
    return rig.by_span()[span_key(span)]


def _of_kind(capture: SpanCapture, kind: str) -> list[ReadableSpan]:
    return sorted(spans_of_kinds(capture, (kind,)), key=lambda s: s.start_time or 0)


# ------------------------------------------------------------------------------ keys and content
@pytest.mark.parametrize("kind", STORES)
def test_every_model_tool_and_retrieval_span_has_one_record_keyed_by_it(
        kind: StoreKind, tmp_path: Path, capture: SpanCapture, server: ScriptedOpenAIServer,
        chat_model: Callable[..., ChatOpenAI], vector_store: InMemoryVectorStore) -> None:
    with traced(kind, tmp_path, capture) as (rig, handler):
        assert _run_support_agent(chat_model(), vector_store, server, handler) == FINAL
        records = rig.by_span()

    spans = spans_of_kinds(capture, CAPTURED)
    assert sorted(attrs(s)[sc.OBS_SPAN_KIND] for s in spans) == ["llm", "llm", "retriever", "tool"]
    assert_one_record_per_span(records, spans, capture)


@pytest.mark.parametrize("kind", STORES)
def test_model_records_keep_messages_model_and_the_servers_token_counts(
        kind: StoreKind, tmp_path: Path, capture: SpanCapture, server: ScriptedOpenAIServer,
        chat_model: Callable[..., ChatOpenAI], vector_store: InMemoryVectorStore) -> None:
    with traced(kind, tmp_path, capture) as (rig, handler):
        _run_support_agent(chat_model(), vector_store, server, handler)
        first, final = (_record_of(rig, s) for s in _of_kind(capture, "llm"))

    assert_server_token_counts((first, final), _of_kind(capture, "llm"), server)
    assert json.dumps(first.input).count(QUESTION) == 1
    assert "search_policies" in json.dumps(first.output)
    assert "Refunds are paid within 14 days" in json.dumps(final.input)  # the tool's result
    assert FINAL in json.dumps(final.output)


@pytest.mark.parametrize("kind", STORES)
def test_the_tool_record_keeps_its_arguments_and_result(
        kind: StoreKind, tmp_path: Path, capture: SpanCapture, server: ScriptedOpenAIServer,
        chat_model: Callable[..., ChatOpenAI], vector_store: InMemoryVectorStore) -> None:
    with traced(kind, tmp_path, capture) as (rig, handler):
        _run_support_agent(chat_model(), vector_store, server, handler)
        [record] = (_record_of(rig, s) for s in _of_kind(capture, "tool"))

    assert (record.name, record.input) == ("search_policies", {"question": QUESTION})
    assert record.output == "\n".join(d.page_content for d in vector_store.similarity_search(
        QUESTION, k=3))


@pytest.mark.parametrize("kind", STORES)
def test_the_retrieval_record_keeps_the_query_and_the_documents_with_their_span_scores(
        kind: StoreKind, tmp_path: Path, capture: SpanCapture, server: ScriptedOpenAIServer,
        chat_model: Callable[..., ChatOpenAI], vector_store: InMemoryVectorStore) -> None:
    with traced(kind, tmp_path, capture) as (rig, handler):
        _run_support_agent(chat_model(), vector_store, server, handler)
        [span] = _of_kind(capture, "retriever")
        record = _record_of(rig, span)

    expected = vector_store.similarity_search_with_score(QUESTION, k=3)
    assert record.input == QUESTION
    assert record.output is None  # the documents are the output
    assert [(d.id, d.score, d.content) for d in record.documents] == [
        (doc.id, score, doc.page_content) for doc, score in expected]
    assert tuple(d.id for d in record.documents) == attrs(span)[sc.OBS_RETRIEVAL_DOCUMENT_IDS]
    assert tuple(d.score for d in record.documents) == attrs(span)[sc.OBS_RETRIEVAL_SCORES]


# ------------------------------------------------------------------------------ tags and hashes
@pytest.mark.parametrize("kind", STORES)
def test_config_metadata_tags_every_record_of_its_run_and_configure_defaults_tag_the_others(
        kind: StoreKind, tmp_path: Path, capture: SpanCapture, server: ScriptedOpenAIServer,
        chat_model: Callable[..., ChatOpenAI], vector_store: InMemoryVectorStore) -> None:
    with traced(kind, tmp_path, capture, pipeline_version="rag-v1",
                user_cohort="control") as (rig, handler):
        _run_support_agent(chat_model(), vector_store, server, handler, metadata=RUN_TAGS)
        _run_support_agent(chat_model(), vector_store, server, handler)
        records = rig.records()
        tags = rig.tags_by_trace()
        in_session = rig.reader.search(session_id="sess-42")

    assert tags == sorted([{("sess-42", "beta", "rag-v2")}, {(None, "control", "rag-v1")}],
                          key=str)
    assert {r.span_id for r in in_session} == {
        r.span_id for r in records if r.session_id == "sess-42"}
    assert len(in_session) == 4


def test_identical_prompts_share_a_keyed_hash_that_another_secret_changes(
        tmp_path: Path, capture: SpanCapture, server: ScriptedOpenAIServer,
        chat_model: Callable[..., ChatOpenAI], vector_store: InMemoryVectorStore) -> None:
    def hashes(**options: Any) -> list[str | None]:
        """The prompt hash of each run's first model call (the agent reading the question)."""
        with traced("sqlite", tmp_path, capture, **options) as (rig, handler):
            for question in (QUESTION, QUESTION, "Do gift cards expire?"):
                _run_support_agent(chat_model(), vector_store, server, handler, question=question)
            return rig.first_prompt_hashes()

    same, repeated, other = hashes()
    [again, _, _] = hashes(secret=OTHER_SECRET)

    assert_keyed_hashes(same, repeated, other, with_other_secret=again)


# ------------------------------------------------------------------------------ capture modes
@pytest.mark.parametrize("kind", STORES)
def test_redacted_capture_stores_none_of_the_planted_personal_data(
        kind: StoreKind, tmp_path: Path, capture: SpanCapture, server: ScriptedOpenAIServer,
        chat_model: Callable[..., ChatOpenAI], vector_store: InMemoryVectorStore) -> None:
    question = (f"I am {PLANTED_EMAIL}, I paid with {PLANTED_CARD} and my key is {PLANTED_KEY}."
                " How long do refunds take?")
    with traced(kind, tmp_path, capture, mode="redacted") as (rig, handler):
        _run_support_agent(chat_model(), vector_store, server, handler, question=question)
        stored = rig.stored_bytes()
        records = rig.records()

    assert {r.kind for r in records} == set(CAPTURED)
    assert all(value not in stored for value in PLANTED)
    tool_record = next(r for r in records if r.kind == "tool")
    assert tool_record.input == {"question": "I am <EMAIL_1>, I paid with <CARD_1> and my key "
                                             "is <SECRET_1>. How long do refunds take?"}
    assert {r.capture for r in records} == {"redacted"}


def test_full_capture_stores_the_raw_text(
        tmp_path: Path, capture: SpanCapture, server: ScriptedOpenAIServer,
        chat_model: Callable[..., ChatOpenAI], vector_store: InMemoryVectorStore) -> None:
    question = f"I am {PLANTED_EMAIL}. How long do refunds take?"
    with traced("sqlite", tmp_path, capture, mode="full") as (rig, handler):
        _run_support_agent(chat_model(), vector_store, server, handler, question=question)
        records = rig.records()

    assert next(r for r in records if r.kind == "tool").input == {"question": question}
    assert next(r for r in records if r.kind == "retriever").input == question
    assert {r.capture for r in records} == {"full"}


@pytest.mark.parametrize("kind", STORES)
def test_no_capture_stores_nothing_while_the_spans_are_still_recorded(
        kind: StoreKind, tmp_path: Path, capture: SpanCapture, server: ScriptedOpenAIServer,
        chat_model: Callable[..., ChatOpenAI], vector_store: InMemoryVectorStore) -> None:
    with traced(kind, tmp_path, capture, mode="none") as (rig, handler):
        _run_support_agent(chat_model(), vector_store, server, handler)
        records = rig.records()

    assert records == []
    assert len(spans_of_kinds(capture, CAPTURED)) == 4


# ------------------------------------------------------------------------------ rerankers
OUTER = "retrieval contextualcompression"  # LangChain's ``ls_retriever_name`` of the retrievers
INNER = "retrieval scored"

def test_a_reranking_compressor_is_recorded_through_its_compression_retriever(
        tmp_path: Path, capture: SpanCapture, vector_store: InMemoryVectorStore) -> None:
    """LangChain runs document compressors without callbacks of their own: the reranked result
    is the ``ContextualCompressionRetriever``'s retrieval, the candidates are its base
    retriever's, each with its own scores."""
    retriever = ContextualCompressionRetriever(
        base_compressor=KeywordReranker(top_n=2), base_retriever=ScoredRetriever(store=vector_store))
    with traced("sqlite", tmp_path, capture) as (rig, handler):
        retriever.invoke(QUESTION, config={"callbacks": [handler]})
        outer, inner = (_record_of(rig, capture.one(name)) for name in (OUTER, INNER))

    assert capture.tree() == [(0, OUTER), (1, INNER)]
    assert len(inner.documents) == 3
    assert [(d.id, d.score) for d in outer.documents] == [("refunds", 0.2), ("giftcards", 0.0)]
    assert outer.documents[0].metadata["score"] == next(
        d.score for d in inner.documents if d.id == "refunds")
    assert outer.input == inner.input == QUESTION


def test_an_llm_reranker_records_its_model_call_under_the_compression_retriever(
        tmp_path: Path, capture: SpanCapture, server: ScriptedOpenAIServer,
        chat_model: Callable[..., ChatOpenAI], vector_store: InMemoryVectorStore) -> None:
    server.enqueue(ScriptedReply.text(json.dumps({"ranked_document_ids": [2, 0, 1]})))
    retriever = ContextualCompressionRetriever(
        base_compressor=LLMListwiseRerank.from_llm(llm=chat_model(), top_n=2),
        base_retriever=ScoredRetriever(store=vector_store))
    with traced("sqlite", tmp_path, capture) as (rig, handler):
        docs = retriever.invoke(QUESTION, config={"callbacks": [handler]})
        outer = _record_of(rig, capture.one(OUTER))
        [judge] = (_record_of(rig, s) for s in _of_kind(capture, "llm"))

    ranked = [d.id for d in docs]
    assert [d.id for d in outer.documents] == ranked
    assert len(ranked) == 2
    root = capture.one(OUTER)
    [chat] = _of_kind(capture, "llm")
    assert capture.roots() == [root]
    assert chat.context.trace_id == root.context.trace_id
    assert "Sort the Documents by their relevance" in json.dumps(judge.input)
    assert judge.output is not None


# ------------------------------------------------------------------------------ content on spans
def _note_chain(model: ChatOpenAI) -> Any:
    prompt = ChatPromptTemplate.from_messages([("human", "{note}")])
    return prompt | model | StrOutputParser()


NOTE = "Forward ada@example.com's invoice to bob@example.org and cc ada@example.com."


def test_content_on_spans_numbers_placeholders_per_trace_like_the_payload_store(
        tmp_path: Path, capture: SpanCapture, server: ScriptedOpenAIServer,
        chat_model: Callable[..., ChatOpenAI]) -> None:
    with traced("sqlite", tmp_path, capture, content_on_spans=True) as (rig, handler):
        _note_chain(chat_model()).invoke({"note": NOTE}, config={"callbacks": [handler]})
        [span] = _of_kind(capture, "llm")
        record = _record_of(rig, span)

    sent = str(attrs(span)[sc.GEN_AI_INPUT_MESSAGES])
    answered = str(attrs(span)[sc.GEN_AI_OUTPUT_MESSAGES])
    expected = "Forward <EMAIL_1>'s invoice to <EMAIL_2> and cc <EMAIL_1>."
    assert expected in sent
    assert expected in answered  # the scripted server echoes the note
    assert expected in json.dumps(record.input)
    assert expected in json.dumps(record.output)


def test_each_trace_numbers_its_placeholders_afresh(
        tmp_path: Path, capture: SpanCapture, server: ScriptedOpenAIServer,
        chat_model: Callable[..., ChatOpenAI]) -> None:
    chain = _note_chain(chat_model())
    with traced("sqlite", tmp_path, capture, content_on_spans=True) as (_, handler):
        chain.invoke({"note": NOTE}, config={"callbacks": [handler]})
        chain.invoke({"note": "Ask bob@example.org."}, config={"callbacks": [handler]})

    first, second = (str(attrs(s)[sc.GEN_AI_INPUT_MESSAGES]) for s in _of_kind(capture, "llm"))
    assert "<EMAIL_2>" in first
    assert "Ask <EMAIL_1>." in second


def test_without_payload_capture_content_on_spans_uses_plain_placeholders(
        tmp_path: Path, capture: SpanCapture, server: ScriptedOpenAIServer,
        chat_model: Callable[..., ChatOpenAI]) -> None:
    with traced("sqlite", tmp_path, capture, mode="none",
                content_on_spans=True) as (_, handler):
        _note_chain(chat_model()).invoke({"note": NOTE}, config={"callbacks": [handler]})

    [span] = _of_kind(capture, "llm")
    assert "Forward <EMAIL>'s invoice to <EMAIL> and cc <EMAIL>." in str(
        attrs(span)[sc.GEN_AI_INPUT_MESSAGES])
