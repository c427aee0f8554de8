"""The framework-free API: a hand-written tool-calling loop over the real ``openai`` client,
traced with ``agent_run`` / ``llm_call`` / ``tool_call`` and ``instrument_openai``."""

from __future__ import annotations

import json
from collections.abc import Iterator

import openai
import pytest
from opentelemetry.trace import StatusCode

import obs_core
from _obs_support import Spans, attrs
from obs_core import semconv as sc
from obs_core.testing import ScriptedOpenAIServer, ScriptedReply


@pytest.fixture
def server() -> Iterator[ScriptedOpenAIServer]:
    with ScriptedOpenAIServer() as srv:
        yield srv


@pytest.fixture
def client(server: ScriptedOpenAIServer, spans: Spans) -> Iterator[openai.OpenAI]:
    c = openai.OpenAI(base_url=server.base_url, api_key="test-key", max_retries=0)
    obs_core.instrument_openai(c, tracer_provider=spans.provider)
    yield c
    obs_core.uninstrument_openai(c)
    c.close()


def _weather_loop(client: openai.OpenAI, spans: Spans, max_iterations: int) -> str:
    messages: list[dict[str, object]] = [{"role": "user", "content": "Weather in Paris?"}]
    with obs_core.agent_run("weather-agent", max_iterations=max_iterations,
                            tracer_provider=spans.provider) as agent:
        for _ in range(max_iterations):
            reply = client.chat.completions.create(model="gpt-4o-mini", messages=messages)  # type: ignore[arg-type]
            message = reply.choices[0].message
            if not message.tool_calls:
                agent.finish(stop_reason="final_answer")
                return message.content or ""
            messages.append(message.model_dump())
            for call in message.tool_calls:
                with obs_core.tool_call(call.function.name, arguments=call.function.arguments,  # type: ignore[union-attr]
                                        call_id=call.id, tracer_provider=spans.provider) as tool:
                    result = {"temp_c": 21}
                    tool.set_result(result)
                messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)})
        agent.finish(limit_reached=True)
        return "gave up"


def test_tool_loop_becomes_agent_tree_with_server_token_numbers(
        server: ScriptedOpenAIServer, client: openai.OpenAI, spans: Spans) -> None:
    server.enqueue(ScriptedReply.tool_call("get_weather", {"city": "Paris"}),
                   ScriptedReply.text("It is 21°C in Paris.", cached_tokens=3))
    answer = _weather_loop(client, spans, max_iterations=5)
    assert answer == "It is 21°C in Paris."
    agent = spans.named("invoke_agent weather-agent")
    llm_calls = [s for s in spans.all if s.name == "chat gpt-4o-mini"]
    assert len(llm_calls) == 2
    assert all(spans.parent_of(s) is agent for s in llm_calls)
    assert spans.parent_of(spans.named("execute_tool get_weather")) is agent
    reported = server.usage_log
    assert [attrs(s)[sc.GEN_AI_USAGE_INPUT_TOKENS] for s in llm_calls] == [u.prompt_tokens for u in reported]
    assert [attrs(s)[sc.GEN_AI_USAGE_OUTPUT_TOKENS] for s in llm_calls] == [u.completion_tokens for u in reported]
    assert attrs(llm_calls[1])[sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 3
    assert attrs(llm_calls[0])[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_calls",)
    assert attrs(agent)[sc.OBS_AGENT_STEP_COUNT] == 2
    assert attrs(agent)[sc.OBS_AGENT_TOOL_CALL_COUNT] == 1
    assert attrs(agent)[sc.OBS_AGENT_STOP_REASON] == "final_answer"
    assert attrs(agent)[sc.OBS_ROLLUP_INPUT_TOKENS] == sum(u.prompt_tokens for u in reported)


def test_loop_that_runs_out_of_iterations_is_marked(server: ScriptedOpenAIServer,
                                                    client: openai.OpenAI, spans: Spans) -> None:
    server.enqueue(*[ScriptedReply.tool_call("get_weather", {"city": "Paris"})] * 2)
    assert _weather_loop(client, spans, max_iterations=2) == "gave up"
    agent = spans.named("invoke_agent weather-agent")
    assert agent.status.status_code is StatusCode.OK
    assert attrs(agent)[sc.OBS_AGENT_MAX_ITERATIONS_REACHED] is True
    assert attrs(agent)[sc.OBS_AGENT_STEP_LIMIT] == 2


def test_streamed_completion_records_usage_and_time_to_first_chunk(
        server: ScriptedOpenAIServer, client: openai.OpenAI, spans: Spans) -> None:
    server.enqueue(ScriptedReply.text("one two three four", chunk_delay=0.01))
    stream = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "count"}],
                                            stream=True, stream_options={"include_usage": True})
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text == "one two three four"
    span = spans.named("chat gpt-4o")
    assert attrs(span)[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == server.usage_log[0].completion_tokens
    ttfc = attrs(span)[sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK]
    assert isinstance(ttfc, float)
    assert 0 < ttfc < (span.end_time - span.start_time) / 1e9  # type: ignore[operator]


def test_abandoned_stream_still_ends_its_span(server: ScriptedOpenAIServer, client: openai.OpenAI,
                                              spans: Spans) -> None:
    server.enqueue(ScriptedReply.text("a b c d e f"))
    stream = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}],
                                            stream=True)
    next(iter(stream))
    stream.close()
    assert spans.named("chat gpt-4o").end_time is not None


def test_api_error_is_recorded_and_re_raised_unchanged(server: ScriptedOpenAIServer,
                                                       client: openai.OpenAI, spans: Spans) -> None:
    server.enqueue(ScriptedReply.http_error(429, "slow down"))
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    span = spans.named("chat gpt-4o")
    assert span.status.status_code is StatusCode.ERROR
    assert attrs(span)[sc.ERROR_TYPE] == "openai.RateLimitError"


def test_embeddings_call_records_count_and_dimensions(server: ScriptedOpenAIServer,
                                                      client: openai.OpenAI, spans: Spans) -> None:
    client.embeddings.create(model="text-embedding-3-small", input=["a", "b", "c"])
    span = spans.named("embeddings text-embedding-3-small")
    assert attrs(span)[sc.OBS_EMBEDDING_INPUT_COUNT] == 3
    assert attrs(span)[sc.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] == 64
    assert attrs(span)[sc.GEN_AI_USAGE_INPUT_TOKENS] == server.usage_log[0].prompt_tokens


async def test_async_client_is_traced_too(server: ScriptedOpenAIServer, spans: Spans) -> None:
    client = openai.AsyncOpenAI(base_url=server.base_url, api_key="k", max_retries=0)
    obs_core.instrument_openai(client, tracer_provider=spans.provider)
    reply = await client.chat.completions.create(model="gpt-4o-mini",
                                                 messages=[{"role": "user", "content": "hello"}])
    assert reply.choices[0].message.content
    assert spans.attrs("chat gpt-4o-mini")[sc.GEN_AI_RESPONSE_ID] == reply.id
    await client.close()


def test_uninstrument_restores_the_client(server: ScriptedOpenAIServer, spans: Spans) -> None:
    client = openai.OpenAI(base_url=server.base_url, api_key="k", max_retries=0)
    obs_core.instrument_openai(client, tracer_provider=spans.provider)
    obs_core.instrument_openai(client, tracer_provider=spans.provider)  # idempotent
    obs_core.uninstrument_openai(client)
    assert "create" not in vars(client.chat.completions)
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    client.close()
    assert spans.all == ()


def test_exception_inside_a_traced_block_is_recorded_and_propagates(spans: Spans) -> None:
    with pytest.raises(ZeroDivisionError), obs_core.tool_call("divide", tracer_provider=spans.provider):
        _ = 1 / 0
    span = spans.named("execute_tool divide")
    assert span.status.status_code is StatusCode.ERROR
    assert attrs(span)[sc.ERROR_TYPE] == "ZeroDivisionError"
