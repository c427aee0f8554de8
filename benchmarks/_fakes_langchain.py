"""Scripted, in-process stand-ins for a LangChain chat model and retriever.

They answer instantly and deterministically, so a benchmark measures the framework and the
tracer, never a network. The chat model decides its reply from the conversation alone (how
many tool results it has seen), which keeps it stateless: the same instance serves any number
of runs, in any order, like a real client.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.language_models import BaseChatModel, LangSmithParams, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool

ANSWER = "The parcel left the warehouse on Tuesday and should arrive within two days."


class ScriptedChatModel(BaseChatModel):
    """Calls ``tool_steps`` tools one after the other, then answers.

    Replies carry token usage like a real provider's, so tracers exercise their usage paths.
    """

    tool_steps: int = 0
    tool_names: tuple[str, ...] = ()

    @property
    def _llm_type(self) -> str:
        return "scripted-chat"

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        # What real chat integrations report, and what tracers read the model name from.
        params = super()._get_ls_params(stop=stop, **kwargs)
        params["ls_provider"] = "scripted"
        params["ls_model_name"] = "scripted-1"
        return params

    def bind_tools(self, tools: Sequence[Any], *, tool_choice: str | None = None,
                   **kwargs: Any) -> Runnable[LanguageModelInput, AIMessage]:
        names = tuple(t.name if isinstance(t, BaseTool) else str(getattr(t, "__name__", t))
                      for t in tools)
        return self.model_copy(update={"tool_names": names})

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: Any = None, **kwargs: Any) -> ChatResult:
        seen = sum(1 for m in messages if isinstance(m, ToolMessage))
        usage = {"input_tokens": 42 + 7 * seen, "output_tokens": 12, "total_tokens": 54 + 7 * seen}
        if seen < self.tool_steps and self.tool_names:
            name = self.tool_names[seen % len(self.tool_names)]
            message = AIMessage(content="", usage_metadata=usage,
                                tool_calls=[{"name": name, "args": {"query": f"step {seen}"},
                                             "id": f"call_{seen}", "type": "tool_call"}])
        else:
            message = AIMessage(content=ANSWER, usage_metadata=usage)
        message.response_metadata = {"model_name": "scripted-1", "finish_reason": "stop"}
        return ChatResult(generations=[ChatGeneration(message=message)],
                          llm_output={"model_name": "scripted-1"})


class FixedRetriever(BaseRetriever):
    """Returns the same documents for every query, with scores in their metadata."""

    documents: list[Document]

    def _get_relevant_documents(self, query: str, *,
                                run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return self.documents


def sample_documents(count: int) -> list[Document]:
    return [Document(page_content=f"Shipping note {i}: standard delivery takes {i + 2} days; "
                                  f"express orders placed before 15:00 ship the same day.",
                     metadata={"source": f"kb/shipping-{i}.md", "score": 0.9 - i / 20})
            for i in range(count)]


def lookup_tool(name: str) -> Callable[[str], str]:
    def lookup(query: str) -> str:
        return f"{name} result for {query}: in transit, last scan in Leipzig."

    lookup.__name__ = name
    lookup.__doc__ = f"Look up {name.replace('_', ' ')} for a shipment."
    return lookup
