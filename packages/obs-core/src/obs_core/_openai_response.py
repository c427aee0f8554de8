"""Reading OpenAI-style responses (objects or dicts) without importing ``openai``."""

from __future__ import annotations

from typing import Any

from obs_core.runs import RunEnd
from obs_core.spans import TokenUsage, UsageSource


def field(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def usage_from_openai(usage: Any) -> TokenUsage | None:
    if usage is None:
        return None
    prompt = field(usage, "prompt_tokens")
    if prompt is None:
        prompt = field(usage, "input_tokens")  # Responses API naming
    completion = field(usage, "completion_tokens")
    if completion is None:
        completion = field(usage, "output_tokens")
    details_in = field(usage, "prompt_tokens_details") or field(usage, "input_tokens_details")
    details_out = field(usage, "completion_tokens_details") or field(usage, "output_tokens_details")
    return TokenUsage(
        input_tokens=int(prompt or 0), output_tokens=int(completion or 0),
        total_tokens=field(usage, "total_tokens"),
        cache_read_tokens=int(field(details_in, "cached_tokens") or 0),
        reasoning_tokens=int(field(details_out, "reasoning_tokens") or 0),
        source=UsageSource.PROVIDER,
    )


def end_from_openai_response(response: Any) -> RunEnd:
    choices = field(response, "choices") or []
    reasons = [str(r) for r in (field(c, "finish_reason") for c in choices) if r]
    outputs = []
    for choice in choices:
        message = field(choice, "message")
        if message is not None:
            outputs.append({"role": field(message, "role") or "assistant",
                            "content": field(message, "content"),
                            "tool_calls": _tool_calls(field(message, "tool_calls"))})
    usage = usage_from_openai(field(response, "usage"))
    return RunEnd(response_id=field(response, "id"), response_model=field(response, "model"),
                  finish_reasons=reasons, usage=usage, outputs=outputs or None)


def _tool_calls(calls: Any) -> list[dict[str, Any]] | None:
    if not calls:
        return None
    return [{"id": field(c, "id"), "name": field(field(c, "function"), "name"),
             "arguments": field(field(c, "function"), "arguments")} for c in calls]
