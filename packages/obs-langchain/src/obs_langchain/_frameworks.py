"""Optional frameworks, probed by capability: classes are looked up only in modules the
application has already imported, so obs never imports LangGraph, LangChain or
LangChain-classic itself, and an object of a class whose module is not loaded cannot exist.
"""

from __future__ import annotations

import sys
from typing import Any

_found: dict[tuple[str, str], type[Any]] = {}


def loaded_class(module: str, name: str) -> type[Any] | None:
    """``module.name`` if that module is imported and defines a class of that name."""
    key = (module, name)
    cls = _found.get(key)
    if cls is not None:
        return cls
    mod = sys.modules.get(module)
    candidate = getattr(mod, name, None) if mod is not None else None
    if isinstance(candidate, type):
        _found[key] = candidate
        return candidate
    return None


def loaded_classes(*paths: tuple[str, str]) -> tuple[type[Any], ...]:
    """Every ``(module, name)`` that resolves to a loaded class, for ``isinstance`` checks."""
    out = []
    for module, name in paths:
        cls = loaded_class(module, name)
        if cls is not None:
            out.append(cls)
    return tuple(out)


# LangGraph steers with exceptions: interrupts, parent commands and drains bubble up through
# every enclosing run and are not failures.
CONTROL_FLOW = (("langgraph.errors", "GraphBubbleUp"),)
RECURSION_LIMIT = (("langgraph.errors", "GraphRecursionError"),)
MODEL_CALL_LIMIT_ERRORS = (
    ("langchain.agents.middleware.model_call_limit", "ModelCallLimitExceededError"),
)
TOOL_CALL_LIMIT_ERRORS = (
    ("langchain.agents.middleware.tool_call_limit", "ToolCallLimitExceededError"),
)
MODEL_CALL_LIMIT_MIDDLEWARE = ("langchain.agents.middleware.model_call_limit",
                               "ModelCallLimitMiddleware")
TOOL_CALL_LIMIT_MIDDLEWARE = ("langchain.agents.middleware.tool_call_limit",
                              "ToolCallLimitMiddleware")
# The classic agent loop lives in langchain-classic (LangChain 1.x) or, before that, in langchain.
AGENT_EXECUTORS = (
    ("langchain_classic.agents.agent", "AgentExecutor"),
    ("langchain.agents.agent", "AgentExecutor"),
)
AGENT_EXECUTOR_ITERATORS = (
    ("langchain_classic.agents.agent_iterator", "AgentExecutorIterator"),
    ("langchain.agents.agent_iterator", "AgentExecutorIterator"),
)
