"""Small in-process applications for the reliability suite: an LCEL chain, a LangChain agent and
a LlamaIndex agent, all on fake models so thousands of runs stay fast and offline; and a span
processor that knows which spans are still open."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from langchain.agents import create_agent
from langchain_core.language_models.fake_chat_models import (
    FakeListChatModel,
    FakeMessagesListChatModel,
)
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnableLambda
from langchain_core.tools import tool
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.llms.mock import MockFunctionCallingLLM
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor


class OpenSpans(SpanProcessor):
    """Tracks spans started and not yet ended on a provider."""

    def __init__(self) -> None:
        self._open: set[int] = set()
        self.started = 0
        self._lock = threading.Lock()

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        with self._lock:
            self.started += 1
            self._open.add(span.context.span_id)

    def on_end(self, span: ReadableSpan) -> None:
        with self._lock:
            self._open.discard(span.context.span_id)

    @property
    def open(self) -> int:
        with self._lock:
            return len(self._open)


def lcel_chain(answer: str = "fine") -> Runnable[dict[str, str], str]:
    """prompt | fake chat model | parser: four spans per run."""
    prompt = ChatPromptTemplate.from_messages([("user", "{question}")])
    return prompt | FakeListChatModel(responses=[answer]) | StrOutputParser()


def echo_chain() -> Runnable[dict[str, str], str]:
    """Two lambdas that carry the input through (three spans per run): output == input, so
    cross-talk between concurrent runs shows up as a wrong answer or a wrong span tree."""
    tag: RunnableLambda[dict[str, str], dict[str, str]] = RunnableLambda(
        lambda d: {**d, "seen": d["question"]})
    answer: RunnableLambda[dict[str, str], str] = RunnableLambda(
        lambda d: f"answer to {d['seen']}")
    return tag | answer


class _ToolCallingFake(FakeMessagesListChatModel):
    """A scripted chat model that accepts tools (the fake in langchain-core does not)."""

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        return self


@tool
def lookup(query: str) -> str:
    """Look the query up."""
    return f"found {query}"


def langchain_agent(name: str = "helper") -> Runnable[Any, Any]:
    """A LangChain v1 agent (LangGraph underneath) whose model asks for one tool call, then
    answers: one agent, two model calls, one tool call per run."""
    script: list[BaseMessage] = [
        AIMessage(content="", tool_calls=[{"name": "lookup", "args": {"query": "x"}, "id": "c1"}]),
        AIMessage(content="done"),
    ]
    return create_agent(model=_ToolCallingFake(responses=script), tools=[lookup], name=name)


def find(query: str) -> str:
    """Find the query."""
    return f"found {query}"


def llamaindex_agent(name: str = "finder") -> FunctionAgent:
    """A LlamaIndex FunctionAgent on the mock function-calling model: it calls ``find`` once."""
    return FunctionAgent(name=name, description="Finds things.", tools=[find],
                         llm=MockFunctionCallingLLM(), streaming=False)
