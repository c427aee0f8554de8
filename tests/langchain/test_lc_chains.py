"""LCEL chains, chat models and retrievers against a real OpenAI client and a scripted server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator, Mapping
from typing import TYPE_CHECKING, Any, cast

import pytest
from langchain_core.caches import InMemoryCache
from langchain_core.documents import Document
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnablePassthrough
from langchain_core.vectorstores import InMemoryVectorStore
from langchain_openai import ChatOpenAI, OpenAIEmbeddings
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from obs_core import semconv as sc
from obs_core.testing import ScriptedOpenAIServer, ScriptedReply, SpanCapture
from obs_langchain import ObsCallbackHandler

if TYPE_CHECKING:
    from _langchain_checks import Checks

MODEL = "gpt-4o-mini"
CHAT_SPAN = f"chat {MODEL}"


def attrs(span: ReadableSpan) -> Mapping[str, Any]:
    return span.attributes or {}


def _question_chain(model: ChatOpenAI) -> object:
    prompt = ChatPromptTemplate.from_messages([("system", "Be brief."), ("human", "{question}")])
    return prompt | model | StrOutputParser()


def test_rag_chain_traces_retrieval_prompt_model_and_parser(
        server: ScriptedOpenAIServer, capture: SpanCapture, handler: ObsCallbackHandler,
        chat_model: Callable[..., ChatOpenAI], embeddings: OpenAIEmbeddings, check: Checks) -> None:
    store = InMemoryVectorStore(embeddings)
    store.add_documents([Document(page_content="Paris is the capital of France.", id="paris"),
                         Document(page_content="Berlin is the capital of Germany.", id="berlin")])
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Answer from this context: {context}"), ("human", "{question}")])
    chain = ({"context": store.as_retriever(search_kwargs={"k": 2}),
              "question": RunnablePassthrough()}
             | prompt | chat_model(temperature=0.2) | StrOutputParser())
    server.enqueue(ScriptedReply.text("Paris is in France."))

    answer = chain.invoke("Where is Paris?", config={"callbacks": [handler]})

    assert answer == "Paris is in France."
    root = capture.one("RunnableSequence")
    assert [s.name for s in capture.children(root)] == [
        "RunnableParallel<context,question>", "ChatPromptTemplate", CHAT_SPAN, "StrOutputParser"]
    parallel = capture.one("RunnableParallel<context,question>")
    assert sorted(s.name for s in capture.children(parallel)) == [
        "RunnablePassthrough", "retrieval InMemoryVectorStore"]
    retrieval = attrs(capture.one("retrieval InMemoryVectorStore"))
    assert retrieval[sc.OBS_SPAN_KIND] == "retriever"
    assert retrieval[sc.GEN_AI_OPERATION_NAME] == "retrieval"
    assert retrieval[sc.OBS_RETRIEVAL_DOCUMENT_COUNT] == 2
    assert sorted(retrieval[sc.OBS_RETRIEVAL_DOCUMENT_IDS]) == ["berlin", "paris"]
    chat = capture.one(CHAT_SPAN)
    assert attrs(chat)[sc.GEN_AI_PROVIDER_NAME] == "openai"
    assert attrs(chat)[sc.GEN_AI_REQUEST_TEMPERATURE] == 0.2
    assert attrs(chat)[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    check.tokens_match_server(chat)
    assert attrs(root)[sc.OBS_ROLLUP_INPUT_TOKENS] == attrs(chat)[sc.GEN_AI_USAGE_INPUT_TOKENS]
    assert attrs(root)[sc.OBS_ROOT] is True
    check.all_closed()


def test_streamed_chat_records_time_to_first_chunk_and_the_final_usage(
        server: ScriptedOpenAIServer, capture: SpanCapture, handler: ObsCallbackHandler,
        chat_model: Callable[..., ChatOpenAI], check: Checks) -> None:
    server.enqueue(ScriptedReply.text("Hello there, friend.", prompt_tokens=20, cached_tokens=8,
                                      reasoning_tokens=5, chunk_delay=0.005))

    chunks = list(chat_model(stream_usage=True).stream("hi", config={"callbacks": [handler]}))

    assert "".join(str(c.content) for c in chunks) == "Hello there, friend."
    span = capture.one(CHAT_SPAN)
    a = attrs(span)
    assert a[sc.GEN_AI_REQUEST_STREAM] is True
    ttfc = float(a[sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK])
    assert 0 < ttfc < (span.end_time - span.start_time) / 1e9  # type: ignore[operator]
    assert len(server.usage_log) == 1
    check.tokens_match_server(span)
    assert a[sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 8
    assert a[sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] == 5
    check.all_closed()


def test_stream_closed_early_ends_its_span_as_cancelled(
        server: ScriptedOpenAIServer, capture: SpanCapture, handler: ObsCallbackHandler,
        chat_model: Callable[..., ChatOpenAI], check: Checks) -> None:
    server.enqueue(ScriptedReply.text("one two three four five six"))
    stream = cast("Generator[Any, None, None]",
                  chat_model(stream_usage=True).stream("count", config={"callbacks": [handler]}))
    next(stream)
    next(stream)

    stream.close()

    span = capture.one(CHAT_SPAN)
    assert span.status.status_code is StatusCode.ERROR
    assert attrs(span)[sc.ERROR_TYPE] == "cancelled"
    assert sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK in attrs(span)
    check.all_closed()


async def test_cancelled_async_stream_ends_its_span_as_cancelled(
        server: ScriptedOpenAIServer, capture: SpanCapture, handler: ObsCallbackHandler,
        chat_model: Callable[..., ChatOpenAI], check: Checks) -> None:
    server.enqueue(ScriptedReply.text("one two three four five six", chunk_delay=0.2))
    first_chunk = asyncio.Event()

    async def consume() -> None:
        async for _ in chat_model().astream("count", config={"callbacks": [handler]}):
            first_chunk.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first_chunk.wait(), timeout=5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    span = capture.one(CHAT_SPAN)
    assert span.status.status_code is StatusCode.ERROR
    assert attrs(span)[sc.ERROR_TYPE] == "cancelled"
    check.all_closed()


def test_answer_from_langchain_cache_is_marked_cached_and_costs_nothing(
        server: ScriptedOpenAIServer, capture: SpanCapture, handler: ObsCallbackHandler,
        chat_model: Callable[..., ChatOpenAI], check: Checks) -> None:
    model = chat_model(cache=InMemoryCache())
    server.enqueue(ScriptedReply.text("Cached answer."))

    first = model.invoke("same question", config={"callbacks": [handler]})
    second = model.invoke("same question", config={"callbacks": [handler]})

    assert first.content == second.content == "Cached answer."
    assert len(server.requests) == 1
    live, replayed = capture.by_name(CHAT_SPAN)
    assert sc.OBS_USAGE_CACHED_RESPONSE not in attrs(live)
    assert float(attrs(live)[sc.OBS_USAGE_COST_USD]) > 0
    assert attrs(replayed)[sc.OBS_USAGE_CACHED_RESPONSE] is True
    assert attrs(replayed)[sc.OBS_USAGE_COST_USD] == 0
    check.all_closed()


def test_batch_of_sixteen_gives_sixteen_separate_traces(
        server: ScriptedOpenAIServer, capture: SpanCapture, handler: ObsCallbackHandler,
        chat_model: Callable[..., ChatOpenAI], check: Checks) -> None:
    chain = _question_chain(chat_model())
    questions = [{"question": f"question number {i}"} for i in range(16)]

    answers = chain.batch(questions, config={"callbacks": [handler]})  # type: ignore[attr-defined]

    assert answers == [f"Echo: question number {i}" for i in range(16)]
    roots = capture.by_name("RunnableSequence")
    assert len({r.context.trace_id for r in roots}) == 16
    for root in roots:
        assert [s.name for s in capture.children(root)] == [
            "ChatPromptTemplate", CHAT_SPAN, "StrOutputParser"]
    for chat in capture.by_name(CHAT_SPAN):
        check.tokens_match_server(chat)
    check.all_closed()


def test_chain_run_inside_a_users_span_nests_under_it(
        server: ScriptedOpenAIServer, capture: SpanCapture, handler: ObsCallbackHandler,
        chat_model: Callable[..., ChatOpenAI], check: Checks) -> None:
    tracer = capture.tracer_provider.get_tracer("app")
    with tracer.start_as_current_span("handle request"):
        _question_chain(chat_model()).invoke(  # type: ignore[attr-defined]
            {"question": "hi"}, config={"callbacks": [handler]})

    assert capture.tree() == [(0, "handle request"), (1, "RunnableSequence"),
                              (2, "ChatPromptTemplate"), (2, CHAT_SPAN), (2, "StrOutputParser")]
    assert attrs(capture.one("RunnableSequence"))[sc.OBS_ROOT] is True
    check.all_closed()


def test_metadata_tags_and_identity_reach_every_span(
        server: ScriptedOpenAIServer, capture: SpanCapture, handler: ObsCallbackHandler,
        chat_model: Callable[..., ChatOpenAI]) -> None:
    config = {"callbacks": [handler], "tags": ["checkout"],
              "metadata": {"session_id": "s-1", "user_id": "u-7", "user_cohort": "beta",
                           "pipeline_version": "v3", "tenant": "acme", "nested": {"a": 1}}}

    _question_chain(chat_model()).invoke({"question": "hi"}, config=config)  # type: ignore[attr-defined]

    for span in capture.spans:
        a = attrs(span)
        assert a[sc.GEN_AI_CONVERSATION_ID] == "s-1"
        assert a[sc.USER_ID] == "u-7"
        assert a[sc.OBS_USER_COHORT] == "beta"
        assert a[sc.OBS_PIPELINE_VERSION] == "v3"
        assert a[sc.OBS_TAGS] == ("checkout",)
        assert a[sc.OBS_METADATA_PREFIX + "tenant"] == "acme"
        assert not any(k.startswith(sc.OBS_METADATA_PREFIX + "ls_") for k in a)
        assert sc.OBS_METADATA_PREFIX + "nested" not in a


def test_capture_metadata_keys_limits_which_metadata_becomes_attributes(
        server: ScriptedOpenAIServer, capture: SpanCapture,
        chat_model: Callable[..., ChatOpenAI]) -> None:
    handler = ObsCallbackHandler(tracer_provider=capture.tracer_provider,
                                 capture_metadata_keys=["tenant"])
    chat_model().invoke("hi", config={"callbacks": [handler],
                                      "metadata": {"tenant": "acme", "region": "eu"}})

    a = attrs(capture.one(CHAT_SPAN))
    assert a[sc.OBS_METADATA_PREFIX + "tenant"] == "acme"
    assert sc.OBS_METADATA_PREFIX + "region" not in a


def test_failed_model_call_is_an_error_span_with_the_client_error_type(
        server: ScriptedOpenAIServer, capture: SpanCapture, handler: ObsCallbackHandler,
        chat_model: Callable[..., ChatOpenAI], check: Checks) -> None:
    server.enqueue(ScriptedReply.http_error(400, "bad request"))

    with pytest.raises(Exception, match="bad request") as raised:
        chat_model().invoke("hi", config={"callbacks": [handler]})

    span = capture.one(CHAT_SPAN)
    assert span.status.status_code is StatusCode.ERROR
    error = type(raised.value)
    assert attrs(span)[sc.ERROR_TYPE] == f"{error.__module__}.{error.__qualname__}"
    check.all_closed()


def test_model_span_is_named_after_the_requested_model(
        server: ScriptedOpenAIServer, capture: SpanCapture, handler: ObsCallbackHandler,
        chat_model: Callable[..., ChatOpenAI]) -> None:
    server.enqueue(ScriptedReply.text("ok", model="gpt-4o-mini-2024-07-18"))

    chat_model(max_tokens=50, seed=7).invoke("hi", config={"callbacks": [handler]})

    a = attrs(capture.one(f"chat {MODEL}"))
    assert a[sc.GEN_AI_REQUEST_MODEL] == MODEL
    assert a[sc.GEN_AI_RESPONSE_MODEL] == "gpt-4o-mini-2024-07-18"
    assert a[sc.GEN_AI_REQUEST_MAX_TOKENS] == 50
    assert a[sc.GEN_AI_REQUEST_SEED] == 7
    assert a[sc.GEN_AI_RESPONSE_ID].startswith("chatcmpl-")


def test_completion_model_call_is_a_text_completion_span(
        server: ScriptedOpenAIServer, capture: SpanCapture, handler: ObsCallbackHandler,
        http_clients: dict[str, Any], check: Checks) -> None:
    from langchain_openai import OpenAI

    model = OpenAI(model="gpt-3.5-turbo-instruct", base_url=server.base_url,
                   api_key="sk-test", max_retries=0, **http_clients)
    server.enqueue(ScriptedReply.text("Once upon a time."))

    assert model.invoke("Tell a story", config={"callbacks": [handler]}) == "Once upon a time."

    span = capture.one("text_completion gpt-3.5-turbo-instruct")
    a = attrs(span)
    assert a[sc.GEN_AI_OPERATION_NAME] == "text_completion"
    assert a[sc.GEN_AI_PROVIDER_NAME] == "openai"
    reported = server.usage_log[0]
    assert a[sc.GEN_AI_USAGE_INPUT_TOKENS] == reported.prompt_tokens
    assert a[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == reported.completion_tokens
    check.all_closed()
