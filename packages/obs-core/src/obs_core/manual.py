"""Tracing without a framework: context managers for hand-written tool-calling loops.

The same recorder and agent accounting the integrations use, driven by ``with`` blocks. The
enclosing run is tracked in a context variable, so nesting follows the code's structure across
threads (via ``contextvars.copy_context``) and asyncio tasks.

    with agent_run("planner", max_iterations=5) as agent:
        with llm_call(model="gpt-4o-mini", provider="openai", messages=msgs) as call:
            reply = client.chat.completions.create(...)
            call.record_openai_response(reply)
        with tool_call("search", arguments={"q": "..."}) as tool:
            tool.set_result(search(...))
        agent.finish(stop_reason="final_answer")
"""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import TracerProvider

from obs_core._guard import guard
from obs_core._openai_response import end_from_openai_response
from obs_core._recorder import Recorder
from obs_core._shared_recorder import shared_recorder
from obs_core.config import current_settings, ensure_configured
from obs_core.runs import RunEnd, RunStart
from obs_core.spans import RetrievedDocument, SpanKind, TokenUsage, UsageSource

_current_run: contextvars.ContextVar[uuid.UUID | None] = contextvars.ContextVar(
    "obs_current_run", default=None)


def _recorder(tracer_provider: TracerProvider | None,
              meter_provider: MeterProvider | None) -> Recorder:
    if tracer_provider is None and meter_provider is None:
        ensure_configured()
    return shared_recorder(tracer_provider, meter_provider, current_settings())


class Run:
    """Handle on one open run; everything set here lands on its span when the block exits."""

    def __init__(self, recorder: Recorder, run_id: uuid.UUID) -> None:
        self._recorder = recorder
        self.run_id = run_id
        self._end = RunEnd()

    def set_attribute(self, key: str, value: Any) -> None:
        self._recorder.set_attributes(self.run_id, {key: value})

    def set_output(self, output: Any) -> None:
        self._end.outputs = output


class LLMCall(Run):
    def set_usage(self, *, input_tokens: int = 0, output_tokens: int = 0,
                  cache_read_tokens: int = 0, reasoning_tokens: int = 0,
                  source: UsageSource = UsageSource.PROVIDER) -> None:
        self._end.usage = TokenUsage(input_tokens=input_tokens, output_tokens=output_tokens,
                                     cache_read_tokens=cache_read_tokens,
                                     reasoning_tokens=reasoning_tokens, source=source)

    def set_response(self, *, response_id: str | None = None, model: str | None = None,
                     finish_reasons: Sequence[str] = (), output: Any = None) -> None:
        self._end.response_id = response_id
        self._end.response_model = model
        self._end.finish_reasons = list(finish_reasons)
        if output is not None:
            self._end.outputs = output

    def record_openai_response(self, response: Any) -> None:
        """Take id, model, finish reasons, usage and the message from an OpenAI-style response
        (an object or a dict)."""
        with guard("manual.record_openai_response"):
            self._end = end_from_openai_response(response)

    def first_chunk(self) -> None:
        self._recorder.first_chunk(self.run_id)


class ToolCall(Run):
    def set_result(self, result: Any) -> None:
        self._end.outputs = result


class Retrieval(Run):
    def set_documents(self, documents: Sequence[RetrievedDocument]) -> None:
        self._end.documents = list(documents)


class AgentRun(Run):
    def finish(self, *, stop_reason: str | None = None, limit_reached: bool = False) -> None:
        """Say how the loop ended; ``limit_reached`` marks a graceful stop at the step limit."""
        self._end.stop_reason = stop_reason
        self._end.max_iterations_reached = limit_reached


@contextmanager
def _run(handle_type: type[Run], start: RunStart, tracer_provider: TracerProvider | None,
         meter_provider: MeterProvider | None) -> Iterator[Any]:
    recorder = _recorder(tracer_provider, meter_provider)
    run_id = uuid.uuid4()
    recorder.start(run_id, _current_run.get(), start)
    recorder.activate(run_id)
    token = _current_run.set(run_id)
    handle = handle_type(recorder, run_id)
    try:
        yield handle
    except BaseException as exc:
        _current_run.reset(token)
        recorder.error(run_id, exc, control_flow=isinstance(exc, GeneratorExit))
        raise
    _current_run.reset(token)
    recorder.end(run_id, handle._end)


def agent_run(name: str, *, max_iterations: int | None = None, inputs: Any = None,
              conversation_id: str | None = None, user_id: str | None = None,
              pipeline_version: str | None = None, user_cohort: str | None = None,
              metadata: Mapping[str, Any] | None = None,
              tracer_provider: TracerProvider | None = None,
              meter_provider: MeterProvider | None = None) -> AbstractContextManager[AgentRun]:
    """An agent's loop: model calls inside count as its steps, tool calls as its actions."""
    start = RunStart(kind=SpanKind.AGENT, name=name, agent_step_limit=max_iterations,
                     inputs=inputs, conversation_id=conversation_id, user_id=user_id,
                     pipeline_version=pipeline_version, user_cohort=user_cohort,
                     metadata=dict(metadata or {}))
    return _run(AgentRun, start, tracer_provider, meter_provider)


def llm_call(*, model: str, provider: str | None = None, messages: Any = None,
             operation: str | None = None, params: Mapping[str, Any] | None = None,
             tracer_provider: TracerProvider | None = None,
             meter_provider: MeterProvider | None = None) -> AbstractContextManager[LLMCall]:
    """One model call; record its response with :meth:`LLMCall.record_openai_response` or
    :meth:`LLMCall.set_usage`."""
    start = RunStart(kind=SpanKind.LLM, name=model, model=model, provider=provider,
                     operation=operation, request_params=dict(params or {}), inputs=messages)
    return _run(LLMCall, start, tracer_provider, meter_provider)


def tool_call(name: str, *, arguments: Any = None, call_id: str | None = None,
              description: str | None = None, tracer_provider: TracerProvider | None = None,
              meter_provider: MeterProvider | None = None) -> AbstractContextManager[ToolCall]:
    start = RunStart(kind=SpanKind.TOOL, name=name, tool_call_id=call_id,
                     tool_description=description, inputs=arguments)
    return _run(ToolCall, start, tracer_provider, meter_provider)


def retrieval(source: str, *, query: str | None = None,
              tracer_provider: TracerProvider | None = None,
              meter_provider: MeterProvider | None = None) -> AbstractContextManager[Retrieval]:
    start = RunStart(kind=SpanKind.RETRIEVER, name=source, data_source=source, inputs=query)
    return _run(Retrieval, start, tracer_provider, meter_provider)


def chain(name: str, *, inputs: Any = None, tracer_provider: TracerProvider | None = None,
          meter_provider: MeterProvider | None = None) -> AbstractContextManager[Run]:
    """Any other step worth a span of its own (a pipeline stage, a request handler)."""
    start = RunStart(kind=SpanKind.CHAIN, name=name, inputs=inputs)
    return _run(Run, start, tracer_provider, meter_provider)

