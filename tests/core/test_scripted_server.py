"""The scripted OpenAI server speaks the wire format the real clients expect."""

from __future__ import annotations

import base64
import http.client
import json
import math
import struct
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from obs_core.testing import (
    RecordedRequest,
    ScriptedOpenAIServer,
    ScriptedReply,
    ScriptedToolCall,
    count_tokens,
    scripted_embedding,
)

USER: list[ChatCompletionMessageParam] = [
    {"role": "user", "content": "What is the weather in Paris?"}
]


def _openai(
    server: ScriptedOpenAIServer, *, max_retries: int = 0, timeout: float = 10
) -> openai.OpenAI:
    # Plain HTTP on loopback: skipping the TLS trust store saves ~0.2 s per client on a busy CI.
    return openai.OpenAI(
        base_url=server.base_url,
        api_key="test",
        max_retries=max_retries,
        timeout=timeout,
        http_client=openai.DefaultHttpxClient(verify=False),
    )


@pytest.fixture
def server() -> Iterator[ScriptedOpenAIServer]:
    with ScriptedOpenAIServer() as running:
        yield running


@pytest.fixture
def client(server: ScriptedOpenAIServer) -> Iterator[openai.OpenAI]:
    with _openai(server) as c:
        yield c


def _raw_post(
    server: ScriptedOpenAIServer, path: str, body: bytes
) -> tuple[int, dict[str, object]]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        connection.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


# -- chat completions ----------------------------------------------------------------------


def test_base_url_points_at_an_ephemeral_loopback_port(server: ScriptedOpenAIServer) -> None:
    assert server.port > 0
    assert server.base_url == f"http://127.0.0.1:{server.port}/v1"


def test_chat_answer_carries_the_scripted_text_and_response_metadata(
    server: ScriptedOpenAIServer, client: openai.OpenAI
) -> None:
    server.enqueue(ScriptedReply.text("It is sunny."))

    response = client.chat.completions.create(model="gpt-4o-mini", messages=USER)

    assert response.choices[0].message.content == "It is sunny."
    assert response.choices[0].finish_reason == "stop"
    assert response.model == "gpt-4o-mini"
    assert response.id.startswith("chatcmpl-")
    assert response.system_fingerprint == "fp_obs_scripted"
    assert abs(response.created - time.time()) < 60


def test_chat_usage_is_counted_from_request_and_answer(
    server: ScriptedOpenAIServer, client: openai.OpenAI
) -> None:
    server.enqueue(ScriptedReply.text("It is sunny."))

    response = client.chat.completions.create(model="gpt-4o-mini", messages=USER)

    assert response.usage is not None
    assert response.usage.prompt_tokens == count_tokens("What is the weather in Paris?") == 7
    assert response.usage.completion_tokens == count_tokens("It is sunny.") == 4
    assert response.usage.total_tokens == 11


def test_chat_usage_reports_cached_and_reasoning_token_details(
    server: ScriptedOpenAIServer, client: openai.OpenAI
) -> None:
    server.enqueue(ScriptedReply.text("It is sunny.", cached_tokens=5, reasoning_tokens=20))

    usage = client.chat.completions.create(model="o3-mini", messages=USER).usage

    assert usage is not None
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 5
    assert usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens == 20
    assert usage.completion_tokens == 4 + 20


def test_usage_overrides_replace_the_computed_counts(
    server: ScriptedOpenAIServer, client: openai.OpenAI
) -> None:
    server.enqueue(ScriptedReply.text("ok", prompt_tokens=1000, completion_tokens=250))

    usage = client.chat.completions.create(model="m", messages=USER).usage

    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (1000, 250, 1250)


def test_usage_log_holds_exactly_what_was_reported(
    server: ScriptedOpenAIServer, client: openai.OpenAI
) -> None:
    server.enqueue(ScriptedReply.text("It is sunny.", cached_tokens=3))

    response = client.chat.completions.create(model="gpt-4o-mini", messages=USER)

    [logged] = server.usage_log
    assert response.usage is not None
    assert logged.response_id == response.id
    assert logged.endpoint == "chat"
    assert (logged.prompt_tokens, logged.completion_tokens, logged.total_tokens) == (
        response.usage.prompt_tokens,
        response.usage.completion_tokens,
        response.usage.total_tokens,
    )
    assert logged.cached_tokens == 3


def test_omit_usage_leaves_usage_out(server: ScriptedOpenAIServer, client: openai.OpenAI) -> None:
    server.enqueue(ScriptedReply.text("ok", omit_usage=True))

    response = client.chat.completions.create(model="m", messages=USER)

    assert response.usage is None
    assert server.usage_log == []


def test_scripted_model_name_replaces_the_echoed_one(
    server: ScriptedOpenAIServer, client: openai.OpenAI
) -> None:
    server.enqueue(ScriptedReply.text("ok", model="gpt-4o-mini-2024-07-18"))

    response = client.chat.completions.create(model="gpt-4o-mini", messages=USER)

    assert response.model == "gpt-4o-mini-2024-07-18"


def test_requests_are_recorded_with_path_body_and_headers(
    server: ScriptedOpenAIServer, client: openai.OpenAI
) -> None:
    client.chat.completions.create(model="gpt-4o-mini", messages=USER, temperature=0.2)

    [request] = server.requests
    assert request.path == "/v1/chat/completions"
    assert request.endpoint == "chat"
    assert request.body["temperature"] == 0.2
    assert request.model == "gpt-4o-mini"
    assert request.last_text == "What is the weather in Paris?"
    assert request.headers["authorization"] == "Bearer test"


def test_n_choices_are_all_answered(server: ScriptedOpenAIServer, client: openai.OpenAI) -> None:
    server.enqueue(ScriptedReply.text("yes"))

    response = client.chat.completions.create(model="m", messages=USER, n=3)

    assert [c.index for c in response.choices] == [0, 1, 2]
    assert response.usage is not None
    assert response.usage.completion_tokens == 3 * count_tokens("yes")


# -- streaming -------------------------------------------------------------------------------


def test_stream_with_include_usage_ends_with_a_usage_chunk(
    server: ScriptedOpenAIServer, client: openai.OpenAI
) -> None:
    server.enqueue(ScriptedReply.text("It is sunny in Paris."))

    chunks = list(
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=USER,
            stream=True,
            stream_options={"include_usage": True},
        )
    )

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "It is sunny in Paris."
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == count_tokens("It is sunny in Paris.")
    assert all(c.usage is None for c in chunks[:-1])
    assert server.usage_log[0].completion_tokens == chunks[-1].usage.completion_tokens


def test_stream_without_include_usage_reports_no_usage(
    server: ScriptedOpenAIServer, client: openai.OpenAI
) -> None:
    chunks = list(client.chat.completions.create(model="m", messages=USER, stream=True))

    assert all(c.usage is None and c.choices for c in chunks)
    assert server.usage_log == []


def test_stream_is_split_as_scripted(server: ScriptedOpenAIServer, client: openai.OpenAI) -> None:
    server.enqueue(ScriptedReply(chunks=("Hel", "lo wor", "ld")))

    stream = client.chat.completions.create(model="m", messages=USER, stream=True)

    pieces = [c.choices[0].delta.content for c in stream if c.choices[0].delta.content]
    assert pieces == ["Hel", "lo wor", "ld"]


def test_streamed_tool_call_deltas_are_reassembled_by_the_client(
    server: ScriptedOpenAIServer, client: openai.OpenAI
) -> None:
    server.enqueue(
        ScriptedReply.parallel_tool_calls(
            ("get_weather", {"city": "Paris"}),
            ScriptedToolCall(name="get_time", arguments={"tz": "CET"}, call_id="call_time"),
        )
    )

    with client.chat.completions.stream(model="gpt-4o-mini", messages=USER) as stream:
        final = stream.get_final_completion()

    choice = final.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls or []
    assert [(c.function.name, json.loads(c.function.arguments)) for c in calls] == [
        ("get_weather", {"city": "Paris"}),
        ("get_time", {"tz": "CET"}),
    ]
    assert calls[1].id == "call_time"
    assert calls[0].id


def test_tool_call_arguments_stream_in_several_pieces(
    server: ScriptedOpenAIServer, client: openai.OpenAI
) -> None:
    server.enqueue(ScriptedReply.tool_call("get_weather", {"city": "Paris"}))

    deltas = [
        call
        for chunk in client.chat.completions.create(model="m", messages=USER, stream=True)
        for call in chunk.choices[0].delta.tool_calls or []
    ]

    assert deltas[0].id is not None
    assert deltas[0].function is not None
    assert deltas[0].function.name == "get_weather"
    assert all(d.id is None and d.function and d.function.name is None for d in deltas[1:])
    assert len(deltas) > 3
    arguments = "".join(d.function.arguments or "" for d in deltas if d.function)
    assert json.loads(arguments) == {"city": "Paris"}


def test_stream_fails_midway_with_an_api_error(
    server: ScriptedOpenAIServer, client: openai.OpenAI
) -> None:
    server.enqueue(ScriptedReply.http_error(500, "overloaded", after_chunks=2, content="a b c d"))
    received: list[str] = []

    stream = client.chat.completions.create(model="m", messages=USER, stream=True)

    with pytest.raises(openai.APIError, match="overloaded"):
        received.extend(chunk.choices[0].delta.content or "" for chunk in stream)

    assert len(received) == 2


def test_aborted_stream_surfaces_as_a_protocol_error(
    server: ScriptedOpenAIServer, client: openai.OpenAI
) -> None:
    server.enqueue(ScriptedReply(content="one two three four", abort_after_chunks=3))

    with pytest.raises(httpx.RemoteProtocolError):
        list(client.chat.completions.create(model="m", messages=USER, stream=True))

    assert server.usage_log == []


async def test_async_client_streams_too(server: ScriptedOpenAIServer) -> None:
    server.enqueue(ScriptedReply.text("async works"))
    async with openai.AsyncOpenAI(
        base_url=server.base_url,
        api_key="test",
        max_retries=0,
        http_client=openai.DefaultAsyncHttpxClient(verify=False),
    ) as c:
        stream = await c.chat.completions.create(model="m", messages=USER, stream=True)
        text = "".join([chunk.choices[0].delta.content or "" async for chunk in stream])

    assert text == "async works"


# -- tool calls and logprobs ---------------------------------------------------------------


def test_tool_call_reply_has_function_name_json_arguments_and_finish_reason(
    server: ScriptedOpenAIServer, client: openai.OpenAI
) -> None:
    server.enqueue(ScriptedReply.tool_call("get_weather", {"city": "Paris"}))

    choice = client.chat.completions.create(model="m", messages=USER).choices[0]

    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    [call] = choice.message.tool_calls or []
    assert call.type == "function"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}


def test_logprobs_cover_every_token_of_the_answer(
    server: ScriptedOpenAIServer, client: openai.OpenAI
) -> None:
    server.enqueue(ScriptedReply.text("It is sunny.", logprobs=(-0.5, -0.25)))

    choice = client.chat.completions.create(
        model="m",
        messages=USER,
        logprobs=True,
        top_logprobs=3,
    ).choices[0]

    assert choice.logprobs is not None
    entries = choice.logprobs.content or []
    assert "".join(e.token for e in entries) == "It is sunny."
    assert [e.logprob for e in entries[:2]] == [-0.5, -0.25]
    assert all(len(e.top_logprobs) == 3 for e in entries)
    assert all(e.top_logprobs[0].token == e.token for e in entries)
    assert all(-1.0 <= e.logprob < 0 for e in entries[2:])


def test_logprobs_are_absent_unless_requested(
    server: ScriptedOpenAIServer, client: openai.OpenAI
) -> None:
    choice = client.chat.completions.create(model="m", messages=USER).choices[0]

    assert choice.logprobs is None


def test_streamed_logprobs_come_with_their_chunks(
    server: ScriptedOpenAIServer, client: openai.OpenAI
) -> None:
    server.enqueue(ScriptedReply(chunks=("It is", " sunny.")))

    stream = client.chat.completions.create(model="m", messages=USER, stream=True, logprobs=True)

    per_chunk = [
        [e.token for e in c.choices[0].logprobs.content or []]
        for c in stream
        if c.choices[0].delta.content
        if c.choices[0].logprobs is not None
    ]
    assert per_chunk == [["It", " is"], [" sunny", "."]]


# -- embeddings ----------------------------------------------------------------------------


def test_embeddings_are_deterministic_unit_vectors(
    server: ScriptedOpenAIServer, client: openai.OpenAI
) -> None:
    response = client.embeddings.create(
        model="text-embedding-3-small", input=["red apple", "green pear"], encoding_format="float"
    )

    vectors = [d.embedding for d in response.data]
    assert vectors == [scripted_embedding("red apple"), scripted_embedding("green pear")]
    assert all(len(v) == 64 for v in vectors)
    assert all(math.isclose(math.sqrt(sum(x * x for x in v)), 1.0, rel_tol=1e-6) for v in vectors)
    assert response.usage.prompt_tokens == 4


def test_embeddings_use_base64_by_default_and_decode_to_the_same_vectors(
    server: ScriptedOpenAIServer, client: openai.OpenAI
) -> None:
    response = client.embeddings.create(model="text-embedding-3-small", input="red apple")

    assert server.requests[0].body["encoding_format"] == "base64"
    assert response.data[0].embedding == scripted_embedding("red apple")


def test_embeddings_base64_payload_is_little_endian_float32(server: ScriptedOpenAIServer) -> None:
    body = json.dumps({"model": "e", "input": "red apple", "encoding_format": "base64"})

    status, document = _raw_post(server, "/v1/embeddings", body.encode())

    assert status == 200
    raw = base64.b64decode(document["data"][0]["embedding"])  # type: ignore[index]
    assert list(struct.unpack("<64f", raw)) == scripted_embedding("red apple")


def test_embeddings_honour_the_dimensions_parameter(
    server: ScriptedOpenAIServer, client: openai.OpenAI
) -> None:
    response = client.embeddings.create(model="e", input="red apple", dimensions=8)

    assert len(response.data[0].embedding) == 8


def test_texts_sharing_words_embed_closer_than_unrelated_texts() -> None:
    query = scripted_embedding("weather in Paris today")
    related = scripted_embedding("Paris weather report")
    unrelated = scripted_embedding("chocolate cake recipe")

    def cosine(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=True))

    assert cosine(query, related) > cosine(query, unrelated) + 0.3


def test_embeddings_accept_token_id_inputs(
    server: ScriptedOpenAIServer, client: openai.OpenAI
) -> None:
    response = client.embeddings.create(
        model="e", input=[[1, 2, 3], [4, 5]], encoding_format="float"
    )

    assert len(response.data) == 2
    assert response.usage.prompt_tokens == 5


def test_embedding_errors_can_be_scripted(
    server: ScriptedOpenAIServer, client: openai.OpenAI
) -> None:
    server.enqueue(ScriptedReply.http_error(503, "busy"), endpoints=["embeddings"])

    with pytest.raises(openai.InternalServerError):
        client.embeddings.create(model="e", input="x")
    assert len(client.embeddings.create(model="e", input="x").data) == 1


# -- legacy completions ----------------------------------------------------------------------


def test_legacy_completion_returns_text_and_usage(
    server: ScriptedOpenAIServer, client: openai.OpenAI
) -> None:
    server.enqueue(ScriptedReply.text("Paris."))

    response = client.completions.create(
        model="gpt-3.5-turbo-instruct", prompt="Capital of France?"
    )

    assert response.object == "text_completion"
    assert response.choices[0].text == "Paris."
    assert response.choices[0].finish_reason == "stop"
    assert response.usage is not None
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (4, 2)


def test_legacy_completion_answers_each_prompt_of_a_batch(
    server: ScriptedOpenAIServer, client: openai.OpenAI
) -> None:
    server.add_rule(ScriptedReply.text("two"), contains="1+1")
    server.add_rule(ScriptedReply.text("four"), contains="2+2")

    response = client.completions.create(model="i", prompt=["2+2=", "1+1="])

    assert [(c.index, c.text) for c in response.choices] == [(0, "four"), (1, "two")]


def test_legacy_completion_streams(server: ScriptedOpenAIServer, client: openai.OpenAI) -> None:
    server.enqueue(ScriptedReply.text("Paris is lovely"))

    chunks = list(
        client.completions.create(
            model="i", prompt="p", stream=True, stream_options={"include_usage": True}
        )
    )

    assert "".join(c.choices[0].text for c in chunks if c.choices) == "Paris is lovely"
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 3


# -- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, openai.BadRequestError),
        (401, openai.AuthenticationError),
        (403, openai.PermissionDeniedError),
        (404, openai.NotFoundError),
        (422, openai.UnprocessableEntityError),
        (429, openai.RateLimitError),
        (500, openai.InternalServerError),
        (503, openai.InternalServerError),
    ],
)
def test_scripted_http_errors_surface_as_the_client_error_classes(
    server: ScriptedOpenAIServer,
    client: openai.OpenAI,
    status: int,
    error_class: type[openai.APIStatusError],
) -> None:
    server.enqueue(ScriptedReply.http_error(status, "scripted trouble", code="some_code"))

    with pytest.raises(error_class) as raised:
        client.chat.completions.create(model="m", messages=USER)

    assert raised.value.status_code == status
    assert raised.value.code == "some_code"
    assert "scripted trouble" in raised.value.message


def test_scripted_headers_reach_the_client_retry_logic(server: ScriptedOpenAIServer) -> None:
    server.enqueue(ScriptedReply.http_error(500, "no retry", headers={"x-should-retry": "false"}))

    with (
        _openai(server, max_retries=3) as retrying,
        pytest.raises(openai.InternalServerError),
    ):
        retrying.chat.completions.create(model="m", messages=USER)

    assert len(server.requests) == 1


def test_malformed_json_gets_a_400_error_body(server: ScriptedOpenAIServer) -> None:
    status, document = _raw_post(server, "/v1/chat/completions", b"{not json")

    assert status == 400
    assert document["error"]["type"] == "invalid_request_error"  # type: ignore[index]


def test_chat_request_without_messages_is_rejected(server: ScriptedOpenAIServer) -> None:
    status, document = _raw_post(server, "/v1/chat/completions", b'{"model": "m", "messages": []}')

    assert status == 400
    assert document["error"]["param"] == "messages"  # type: ignore[index]


def test_unknown_path_gets_a_404_error_body(
    server: ScriptedOpenAIServer, client: openai.OpenAI
) -> None:
    status, document = _raw_post(server, "/v1/nowhere", b"{}")

    assert status == 404
    assert "nowhere" in document["error"]["message"]  # type: ignore[index]
    assert server.requests[0].endpoint is None


def test_a_failing_responder_becomes_a_500(
    server: ScriptedOpenAIServer, client: openai.OpenAI
) -> None:
    def broken(request: RecordedRequest) -> ScriptedReply:
        raise ValueError("bug in the test")

    server.responder = broken

    with pytest.raises(openai.InternalServerError, match="bug in the test"):
        client.chat.completions.create(model="m", messages=USER)


def test_server_writes_nothing_to_stderr(
    server: ScriptedOpenAIServer, client: openai.OpenAI, capfd: pytest.CaptureFixture[str]
) -> None:
    client.chat.completions.create(model="m", messages=USER)
    _raw_post(server, "/v1/chat/completions", b"{not json")
    server.enqueue(ScriptedReply(content="a b c", abort_after_chunks=1))
    with pytest.raises(httpx.RemoteProtocolError):
        list(client.chat.completions.create(model="m", messages=USER, stream=True))

    assert capfd.readouterr().err == ""


# -- scripting -----------------------------------------------------------------------------


def test_queued_replies_are_served_in_order_then_the_fallback(
    server: ScriptedOpenAIServer, client: openai.OpenAI
) -> None:
    server.enqueue(ScriptedReply.text("first"), ScriptedReply.text("second"))

    answers = [
        client.chat.completions.create(model="m", messages=USER).choices[0].message.content
        for _ in range(3)
    ]

    assert answers == ["first", "second", "Echo: What is the weather in Paris?"]
    assert server.pending_replies == 0


def test_rules_win_over_the_queue_and_expire_after_their_times(
    server: ScriptedOpenAIServer, client: openai.OpenAI
) -> None:
    server.enqueue(ScriptedReply.text("queued"))
    server.add_rule(ScriptedReply.text("ruled"), contains="Paris", times=1)

    answers = [
        client.chat.completions.create(model="m", messages=USER).choices[0].message.content
        for _ in range(2)
    ]

    assert answers == ["ruled", "queued"]


def test_rule_predicates_and_responders_see_the_request(
    server: ScriptedOpenAIServer, client: openai.OpenAI
) -> None:
    server.add_rule(
        lambda request: ScriptedReply.text(f"model was {request.model}"),
        matches=lambda request: request.body.get("temperature") == 0,
    )

    cold = client.chat.completions.create(model="m1", messages=USER, temperature=0)
    warm = client.chat.completions.create(model="m1", messages=USER, temperature=1)

    assert cold.choices[0].message.content == "model was m1"
    assert warm.choices[0].message.content != "model was m1"


def test_fifty_concurrent_requests_each_get_their_own_rule_answer(
    server: ScriptedOpenAIServer, client: openai.OpenAI
) -> None:
    for i in range(50):
        # Later questions answer sooner, so completion order differs from submission order.
        server.add_rule(
            ScriptedReply.text(f"answer #{i}.", delay=(49 - i) * 0.002), contains=f"#{i}."
        )

    def ask(i: int) -> str | None:
        messages: list[ChatCompletionMessageParam] = [
            {"role": "user", "content": f"question #{i}."}
        ]
        return (
            client.chat.completions.create(model="m", messages=messages).choices[0].message.content
        )

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(ask, range(50)))

    assert answers == [f"answer #{i}." for i in range(50)]
    assert len(server.usage_log) == 50


def test_delay_holds_the_answer_back(server: ScriptedOpenAIServer, client: openai.OpenAI) -> None:
    server.enqueue(ScriptedReply.text("late", delay=0.2))

    started = time.monotonic()
    client.chat.completions.create(model="m", messages=USER)

    assert time.monotonic() - started >= 0.2


def test_hanging_reply_times_the_client_out(server: ScriptedOpenAIServer) -> None:
    server.enqueue(ScriptedReply.hanging())

    with (
        _openai(server, timeout=0.2) as c,
        pytest.raises(openai.APITimeoutError),
    ):
        c.chat.completions.create(model="m", messages=USER)


def test_stop_releases_a_hanging_request_at_once() -> None:
    server = ScriptedOpenAIServer().start()
    server.enqueue(ScriptedReply.hanging())
    outcome: list[BaseException] = []

    def call() -> None:
        with _openai(server, timeout=30) as c:
            try:
                c.chat.completions.create(model="m", messages=USER)
            except openai.APIError as exc:
                outcome.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    server.wait_for_requests(1)
    started = time.monotonic()
    server.stop()
    caller.join(timeout=5)

    assert time.monotonic() - started < 2
    assert not caller.is_alive()
    assert isinstance(outcome[0], openai.APIConnectionError)


def test_stop_is_idempotent_and_start_is_once_only() -> None:
    server = ScriptedOpenAIServer().start()
    server.stop()
    server.stop()

    with pytest.raises(RuntimeError):
        server.start()


def test_tool_call_helper_rejects_chunks_that_do_not_join_to_content() -> None:
    with pytest.raises(ValueError, match="join"):
        ScriptedReply(content="abc", chunks=("a", "b"))


# -- framework clients -------------------------------------------------------------------------


def test_langchain_chat_openai_streaming_receives_usage(server: ScriptedOpenAIServer) -> None:
    from langchain_openai import ChatOpenAI

    server.enqueue(ScriptedReply.text("Sunny and mild.", cached_tokens=2))
    llm = ChatOpenAI(
        model="gpt-4o-mini",
        base_url=server.base_url,
        api_key="test",
        stream_usage=True,
        max_retries=0,
    )

    chunks = list(llm.stream("What is the weather in Paris?"))

    merged = chunks[0]
    for chunk in chunks[1:]:
        merged += chunk
    [reported] = server.usage_log
    assert merged.content == "Sunny and mild."
    assert merged.usage_metadata is not None
    assert merged.usage_metadata["input_tokens"] == reported.prompt_tokens
    assert merged.usage_metadata["output_tokens"] == reported.completion_tokens
    assert merged.usage_metadata.get("input_token_details", {}).get("cache_read") == 2


def test_llama_index_openai_llm_chats_against_the_server(server: ScriptedOpenAIServer) -> None:
    from llama_index.core.llms import ChatMessage
    from llama_index.llms.openai import OpenAI

    server.enqueue(ScriptedReply.text("Bonjour!"))
    llm = OpenAI(model="gpt-4o-mini", api_base=server.base_url, api_key="test", max_retries=0)

    response = llm.chat([ChatMessage(role="user", content="Say hello in French")])

    [reported] = server.usage_log
    assert response.message.content == "Bonjour!"
    assert response.additional_kwargs["prompt_tokens"] == reported.prompt_tokens
    assert response.additional_kwargs["completion_tokens"] == reported.completion_tokens


def test_llama_index_openai_embedding_gets_the_scripted_vector(
    server: ScriptedOpenAIServer,
) -> None:
    from llama_index.embeddings.openai import (
        OpenAIEmbedding,
    )

    embedder = OpenAIEmbedding(api_base=server.base_url, api_key="test", max_retries=0)

    assert embedder.get_text_embedding("red apple") == scripted_embedding("red apple")
