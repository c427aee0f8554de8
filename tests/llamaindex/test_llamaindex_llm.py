"""Model calls: one LLM span per call, with the provider's usage, for plain and streamed calls."""

from __future__ import annotations

import gc

import openai
import pytest
from llama_index.core.llms import ChatMessage
from llama_index.llms.openai import OpenAI
from opentelemetry.trace import StatusCode

import obs_llamaindex
from llamaindex._support import assert_tokens_match_server, attrs
from obs_core import semconv as sc
from obs_core.testing import ScriptedOpenAIServer, ScriptedReply, SpanCapture


def test_chat_span_has_request_parameters_finish_reason_and_response_id(
    instrumented: obs_llamaindex.Instrumentation, capture: SpanCapture, server: ScriptedOpenAIServer,
    llm: OpenAI,
) -> None:
    server.enqueue(ScriptedReply.text("Hello there.", finish_reason="length"))
    tuned = llm.model_copy(update={"temperature": 0.25, "max_tokens": 40})

    answer = tuned.chat([ChatMessage(role="user", content="Hi")], seed=7)

    assert answer.message.content == "Hello there."
    [span] = capture.spans
    a = attrs(span)
    assert span.name == "chat gpt-4o-mini"
    assert a[sc.GEN_AI_OPERATION_NAME] == "chat"
    assert a[sc.GEN_AI_REQUEST_TEMPERATURE] == 0.25
    assert a[sc.GEN_AI_REQUEST_MAX_TOKENS] == 40
    assert a[sc.GEN_AI_REQUEST_SEED] == 7
    assert a[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("length",)
    assert a[sc.GEN_AI_RESPONSE_ID] == server.usage_log[0].response_id
    assert_tokens_match_server(span, server.usage_log)
    assert instrumented.recorder.open_run_count == 0


def test_predict_wrapper_adds_no_span_of_its_own(
    instrumented: obs_llamaindex.Instrumentation, capture: SpanCapture, llm: OpenAI,
) -> None:
    from llama_index.core.prompts import PromptTemplate

    llm.predict(PromptTemplate("Say {word}"), word="hi")

    assert capture.tree() == [(0, "chat gpt-4o-mini")]
    assert instrumented.recorder.open_run_count == 0


def test_usage_includes_cached_and_reasoning_tokens(
    instrumented: obs_llamaindex.Instrumentation, capture: SpanCapture, server: ScriptedOpenAIServer,
    llm: OpenAI,
) -> None:
    server.enqueue(ScriptedReply.text("Thought about it.", cached_tokens=3, reasoning_tokens=5))

    llm.chat([ChatMessage(role="user", content="Think about the question, please.")])

    a = attrs(capture.one("chat gpt-4o-mini"))
    assert a[sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == server.usage_log[0].cached_tokens == 3
    assert a[sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] == server.usage_log[0].reasoning_tokens == 5
    assert a[sc.OBS_USAGE_SOURCE] == "provider"


def test_completion_call_is_a_text_completion_span(
    instrumented: obs_llamaindex.Instrumentation, capture: SpanCapture, server: ScriptedOpenAIServer,
    llm: OpenAI,
) -> None:
    server.enqueue(ScriptedReply.text("four"))

    assert llm.complete("two plus two is").text == "four"

    [span] = capture.spans
    assert span.name == "text_completion gpt-4o-mini"
    assert attrs(span)[sc.GEN_AI_OPERATION_NAME] == "text_completion"
    assert_tokens_match_server(span, server.usage_log)


def test_streamed_chat_ends_when_the_stream_ends_with_time_to_first_chunk(
    instrumented: obs_llamaindex.Instrumentation, capture: SpanCapture, server: ScriptedOpenAIServer,
    llm: OpenAI,
) -> None:
    server.enqueue(ScriptedReply.text("one two three four", chunk_delay=0.03))

    stream = llm.stream_chat([ChatMessage(role="user", content="count")])
    assert capture.spans == []
    chunks = [chunk.delta for chunk in stream]

    assert "".join(c or "" for c in chunks) == "one two three four"
    span = capture.one("chat gpt-4o-mini")
    duration_s = (span.end_time - span.start_time) / 1e9  # type: ignore[operator]
    assert duration_s >= 0.03 * 3  # the span covers the whole stream, not just its creation
    assert 0 < attrs(span)[sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] < duration_s
    assert attrs(span)[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert_tokens_match_server(span, server.usage_log)
    assert instrumented.recorder.open_run_count == 0


async def test_async_streamed_chat_ends_when_the_stream_ends(
    instrumented: obs_llamaindex.Instrumentation, capture: SpanCapture, server: ScriptedOpenAIServer,
    llm: OpenAI,
) -> None:
    server.enqueue(ScriptedReply.text("a b c"))

    stream = await llm.astream_chat([ChatMessage(role="user", content="letters")])
    assert instrumented.recorder.open_run_count == 1
    text = [chunk.delta async for chunk in stream]

    assert "".join(t or "" for t in text) == "a b c"
    assert_tokens_match_server(capture.one("chat gpt-4o-mini"), server.usage_log)
    assert instrumented.recorder.open_run_count == 0


def test_stream_closed_early_by_the_consumer_ends_the_span_without_error(
    instrumented: obs_llamaindex.Instrumentation, capture: SpanCapture, server: ScriptedOpenAIServer,
    llm: OpenAI,
) -> None:
    server.enqueue(ScriptedReply.text("one two three four five six"))

    stream = llm.stream_chat([ChatMessage(role="user", content="count")])
    next(stream)
    stream.close()

    span = capture.one("chat gpt-4o-mini")
    assert span.status.status_code is StatusCode.OK
    assert attrs(span)["obs.control_flow"] == "GeneratorExit"
    assert instrumented.recorder.open_run_count == 0


def test_stream_dropped_unread_is_ended_when_collected(
    instrumented: obs_llamaindex.Instrumentation, capture: SpanCapture, llm: OpenAI,
) -> None:
    stream = llm.stream_chat([ChatMessage(role="user", content="never read")])
    assert instrumented.recorder.open_run_count == 1

    del stream
    gc.collect()

    span = capture.one("chat gpt-4o-mini")
    assert attrs(span)["obs.control_flow"] == "stream_abandoned"
    assert instrumented.recorder.open_run_count == 0


def test_failed_model_call_marks_the_span_as_error(
    instrumented: obs_llamaindex.Instrumentation, capture: SpanCapture, server: ScriptedOpenAIServer,
    llm: OpenAI,
) -> None:
    server.enqueue(ScriptedReply.http_error(400, "bad request"))

    with pytest.raises(openai.BadRequestError):
        llm.chat([ChatMessage(role="user", content="Hi")])

    span = capture.one("chat gpt-4o-mini")
    assert span.status.status_code is StatusCode.ERROR
    assert attrs(span)[sc.ERROR_TYPE] == "openai.BadRequestError"
    assert instrumented.recorder.open_run_count == 0
