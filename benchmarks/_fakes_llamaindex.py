"""A scripted, in-process function-calling LLM for LlamaIndex agents.

Like the LangChain stand-in, it decides from the conversation alone: it calls ``tool_steps``
tools one after the other (counting the tool results it has seen since the last user turn),
then answers. No network, no randomness, reusable across runs.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator, Sequence
from typing import Any

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    CompletionResponse,
    LLMMetadata,
    MessageRole,
)
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.llms.llm import ToolSelection
from llama_index.core.tools import BaseTool

ANSWER = "The parcel left the warehouse on Tuesday and should arrive within two days."


class ScriptedFunctionLLM(FunctionCallingLLM):
    """Its methods carry LlamaIndex's LLM callbacks, as every real integration's do, so tracers
    see model start and end events."""

    tool_steps: int = 2

    @classmethod
    def class_name(cls) -> str:
        return "ScriptedFunctionLLM"

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name="scripted-1", is_function_calling_model=True,
                           is_chat_model=True, context_window=8192, num_output=64)

    def _reply(self, messages: Sequence[ChatMessage], tools: Sequence[BaseTool]) -> ChatResponse:
        seen = 0
        for m in reversed(messages):
            if m.role == MessageRole.USER:
                break
            if m.role == MessageRole.TOOL:
                seen += 1
        usage = {"prompt_tokens": 40 + 7 * seen, "completion_tokens": 12,
                 "total_tokens": 52 + 7 * seen}
        if seen < self.tool_steps and tools:
            name = tools[seen % len(tools)].metadata.name
            message = ChatMessage(role=MessageRole.ASSISTANT, content="", additional_kwargs={
                "tool_calls": [{"id": f"call_{seen}", "name": name,
                                "arguments": {"query": f"step {seen}"}}]})
        else:
            message = ChatMessage(role=MessageRole.ASSISTANT, content=ANSWER)
        return ChatResponse(message=message, raw={"usage": usage, "model": "scripted-1"},
                            additional_kwargs={"usage": usage})

    # The tools travel with the request: _prepare_chat_with_tools puts them in the kwargs.
    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return self._reply(messages, kwargs.get("tools") or ())

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return self._reply(messages, kwargs.get("tools") or ())

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage],
                    **kwargs: Any) -> Generator[ChatResponse, None, None]:
        yield self._reply(messages, kwargs.get("tools") or ())

    @llm_chat_callback()
    async def astream_chat(self, messages: Sequence[ChatMessage],
                           **kwargs: Any) -> AsyncGenerator[ChatResponse, None]:
        reply = self._reply(messages, kwargs.get("tools") or ())

        async def gen() -> AsyncGenerator[ChatResponse, None]:
            yield reply

        return gen()

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return CompletionResponse(text=ANSWER)

    @llm_completion_callback()
    async def acomplete(self, prompt: str, formatted: bool = False,
                        **kwargs: Any) -> CompletionResponse:
        return CompletionResponse(text=ANSWER)

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False,
                        **kwargs: Any) -> Generator[CompletionResponse, None, None]:
        yield CompletionResponse(text=ANSWER, delta=ANSWER)

    @llm_completion_callback()
    async def astream_complete(self, prompt: str, formatted: bool = False,
                               **kwargs: Any) -> AsyncGenerator[CompletionResponse, None]:
        async def gen() -> AsyncGenerator[CompletionResponse, None]:
            yield CompletionResponse(text=ANSWER, delta=ANSWER)

        return gen()

    def _prepare_chat_with_tools(self, tools: Sequence[BaseTool],
                                 user_msg: str | ChatMessage | None = None,
                                 chat_history: list[ChatMessage] | None = None,
                                 verbose: bool = False, allow_parallel_tool_calls: bool = False,
                                 tool_required: bool = False, **kwargs: Any) -> dict[str, Any]:
        messages = list(chat_history or [])
        if isinstance(user_msg, str):
            messages.append(ChatMessage(role=MessageRole.USER, content=user_msg))
        elif user_msg is not None:
            messages.append(user_msg)
        return {"messages": messages, "tools": list(tools), **kwargs}

    def get_tool_calls_from_response(self, response: ChatResponse,
                                     error_on_no_tool_call: bool = True,
                                     **kwargs: Any) -> list[ToolSelection]:
        calls = response.message.additional_kwargs.get("tool_calls") or []
        return [ToolSelection(tool_id=c["id"], tool_name=c["name"], tool_kwargs=c["arguments"])
                for c in calls]
