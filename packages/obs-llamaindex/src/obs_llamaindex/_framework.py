"""The LlamaIndex types the handlers recognise, found by probing what is installed.

LlamaIndex moves classes between packages (workflows were split out into ``llama-index-workflows``,
the legacy agents were removed), so nothing here compares version strings: each type is looked up
where current releases keep it, then where older ones did, and a feature whose types are missing
is simply not recognised. Resolved once, on first use, never at import time.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import logging
from dataclasses import dataclass

logger = logging.getLogger("obs.llamaindex")

_DEFAULT_MAX_ITERATIONS = 20
"""LlamaIndex's own default, used when its constant cannot be found."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Framework:
    """Classes used for ``isinstance`` decisions; an empty tuple matches nothing."""

    llm: tuple[type, ...]
    embedding: tuple[type, ...]
    tool: tuple[type, ...]
    chat_engine: tuple[type, ...]
    node_postprocessor: tuple[type, ...]
    """Rerankers and other node postprocessors (``BaseNodePostprocessor``)."""
    workflow: tuple[type, ...]
    single_agent: tuple[type, ...]
    """``BaseWorkflowAgent``: FunctionAgent, ReActAgent, CodeActAgent... run as a workflow."""
    multi_agent: tuple[type, ...]
    """``AgentWorkflow``: several agents with handoffs inside one workflow."""
    workflow_event: tuple[type, ...]
    workflow_context: tuple[type, ...]
    agent_output: tuple[type, ...]
    """The event whose handling counts one agent iteration (LlamaIndex's ``num_iterations``)."""
    tool_call: tuple[type, ...]
    tool_output: tuple[type, ...]
    stop_event: tuple[type, ...]
    query_bundle: tuple[type, ...]
    control_flow: tuple[type[BaseException], ...]
    """Exceptions a workflow uses to steer, not to fail."""
    default_max_iterations: int


def _first(*candidates: tuple[str, str]) -> tuple[type, ...]:
    for module_name, attr in candidates:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        found = getattr(module, attr, None)
        if isinstance(found, type):
            return (found,)
    return ()


def _constant(module_name: str, attr: str, default: int) -> int:
    try:
        value = getattr(importlib.import_module(module_name), attr, default)
    except ImportError:
        return default
    return value if isinstance(value, int) else default


@functools.lru_cache(maxsize=1)
def framework() -> Framework:
    """The probed types; cached for the life of the process."""
    control: list[type[BaseException]] = [asyncio.CancelledError, GeneratorExit]
    for module_name, attr in (
        ("llama_index.core.workflow.errors", "WorkflowDone"),
        ("llama_index.core.workflow.errors", "WorkflowCancelledByUser"),
        ("workflows.errors", "WorkflowDone"),
        ("workflows.errors", "WorkflowCancelledByUser"),
        ("workflows.runtime.types.results", "WaitingForEvent"),
    ):
        for cls in _first((module_name, attr)):
            if issubclass(cls, BaseException) and cls not in control:
                control.append(cls)
    agents = "llama_index.core.agent.workflow"
    return Framework(
        llm=_first(("llama_index.core.base.llms.base", "BaseLLM")),
        embedding=_first(("llama_index.core.base.embeddings.base", "BaseEmbedding")),
        tool=_first(("llama_index.core.tools.types", "BaseTool")),
        chat_engine=_first(("llama_index.core.chat_engine.types", "BaseChatEngine")),
        node_postprocessor=_first(("llama_index.core.postprocessor.types", "BaseNodePostprocessor")),
        workflow=_first(("llama_index.core.workflow", "Workflow"), ("workflows", "Workflow")),
        single_agent=_first((agents, "BaseWorkflowAgent")),
        multi_agent=_first((agents, "AgentWorkflow")),
        workflow_event=_first(("llama_index.core.workflow.events", "Event"), ("workflows.events", "Event")),
        workflow_context=_first(("llama_index.core.workflow", "Context"), ("workflows", "Context")),
        agent_output=_first((agents, "AgentOutput")),
        tool_call=_first((agents, "ToolCall")),
        tool_output=_first(("llama_index.core.tools.types", "ToolOutput")),
        stop_event=_first(("llama_index.core.workflow.events", "StopEvent"), ("workflows.events", "StopEvent")),
        query_bundle=_first(("llama_index.core.schema", "QueryBundle")),
        control_flow=tuple(control),
        default_max_iterations=_constant(f"{agents}.base_agent", "DEFAULT_MAX_ITERATIONS",
                                         _DEFAULT_MAX_ITERATIONS),
    )
